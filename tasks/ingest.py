"""Ingest: poll a mailbox into the queue, then turn each delivered message into a ticket run (or not)."""

from __future__ import annotations

import logging

from agent.run import Delivery
from agent.store import RunStore
from inbox.maildir import MaildirSource
from inbox.parse import Unparseable, parse_message
from inbox.ticket import Ticket
from monitoring import events
from tasks.plan import plan_run
from workers.app import app
from workers.runtime import runtime

log = logging.getLogger("triage")


def poll_source(source: MaildirSource) -> int:
    """Ingest every pending message in delivery order; mark each processed only once its run is enqueued.

    One poller per mailbox at a time (a Redis lock), and messages are classified in order, so a
    reply always finds the ticket it answers when both arrive in the same poll.
    """
    rt = runtime()
    lock = rt.store.redis.lock(rt.store.keys.poller_lock(source.name), timeout=300, blocking=False)
    if not lock.acquire():
        log.info("poll skipped source=%s reason=another poller holds the lock", source.name)
        return 0
    count = 0
    try:
        for delivery in source.pending():
            rt.store.save_raw(delivery.delivery_id, delivery.raw)
            ingest_delivery(delivery.delivery_id, delivery.source, delivery.key)
            source.mark_processed(delivery.key)
            lock.extend(300, replace_ttl=True)
            count += 1
    except Exception as exc:
        rt.store.record_poll(source.name, ok=False)
        events.mailbox_polled(source.name, False, count, repr(exc))
        raise
    finally:
        lock.release()
    rt.store.record_poll(source.name, ok=True)
    events.mailbox_polled(source.name, True, count)
    return count


@app.task(name="triage.poll_maildir")
def poll_maildir() -> int:
    """Beat task: poll the configured Maildir once."""
    path = runtime().settings.maildir
    if path is None:
        return 0
    return poll_source(MaildirSource(path))


def _thread_root(store: RunStore, ticket: Ticket) -> str | None:
    """The ticket id this message continues, following replies back to the first ticket."""
    for message_id in ticket.in_reply_to:
        owner = store.message_owner(message_id)
        parent = store.delivery(owner) if owner else None
        if parent and parent.run_id and parent.outcome in ("ticket", "threaded"):
            run = store.get_run(parent.run_id)
            if run is not None:
                return run.ticket.thread_of or run.ticket.id
    return None


def classify_delivery(store: RunStore, delivery_id: str, source: str, key: str, max_bytes: int) -> Delivery:
    """Decide what one message becomes and create its run; idempotent for a redelivered task."""
    base = {"delivery_id": delivery_id, "source": source, "key": key}
    raw = store.raw(delivery_id)
    if raw is None:
        return Delivery(**base, outcome="quarantined", reason="raw message missing from the store (expired?)")
    try:
        incoming = parse_message(raw, max_bytes=max_bytes)
    except Unparseable as exc:
        return Delivery(**base, outcome="quarantined", reason=exc.reason)
    ticket = incoming.ticket
    base["message_id"] = ticket.message_id
    if incoming.automated:
        return Delivery(**base, outcome="automated", reason=incoming.automated)
    owner = store.claim_message_id(ticket.message_id, delivery_id)
    if owner != delivery_id:
        return Delivery(**base, outcome="duplicate", reason=f"Message-ID already delivered as {owner}")
    thread_of = _thread_root(store, ticket)
    ticket = ticket.model_copy(update={"thread_of": thread_of})
    store.create_run(ticket.id, ticket)
    if thread_of:
        return Delivery(**base, outcome="threaded", run_id=ticket.id, reason=f"reply to ticket {thread_of}")
    return Delivery(**base, outcome="ticket", run_id=ticket.id)


def ingest_delivery(delivery_id: str, source: str, key: str) -> Delivery:
    """Record the outcome of one stored message and enqueue its run's planning; safe to repeat."""
    rt = runtime()
    recorded = rt.store.delivery(delivery_id)
    if recorded is None:
        decided = classify_delivery(rt.store, delivery_id, source, key, rt.settings.max_message_bytes)
        recorded = rt.store.record_delivery(decided)
        events.message_ingested(delivery_id, recorded.outcome, recorded.run_id, recorded.reason)
    if recorded.run_id:
        run = rt.store.get_run(recorded.run_id)
        if run is not None and run.plan is None:  # also after a crash between record and enqueue
            plan_run.apply_async((recorded.run_id,))
    return recorded
