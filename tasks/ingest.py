"""Ingest: poll a mailbox into the queue, then turn each delivered message into a ticket run (or not)."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace

from imapclient.exceptions import IMAPClientError
from redis.exceptions import OutOfMemoryError

from agent.locks import kept_alive
from agent.run import HELD_OUTCOMES, Delivery, Run
from agent.threads import ThreadRules
from inbox.imap import CONNECTION_ERRORS, ImapSource
from inbox.maildir import MaildirSource
from inbox.preview import PREVIEW_BYTES, envelope_of
from inbox.source import MailboxMisconfigured, MailSource, RawMessage
from monitoring import events, tracing
from tasks.classify import Reading, classify_delivery
from tasks.turns import queue_for_planning
from tools import ledger_keys
from tools.mail_out import mailbox_of
from workers.app import app
from workers.desks import source_for
from workers.redis_connection import replicated
from workers.runtime import Runtime, runtime

log = logging.getLogger("triage")

POLLER_LOCK_S = 60  # the mailbox lock's life; renewed after every message (an IMAP fetch times out sooner)


def _plan_backlog(rt: Runtime) -> int:
    return rt.depths.queue_depth("plan")


def poll_source(source: MailSource) -> int:
    """Ingest every pending message in delivery order; mark each processed only once its run is enqueued.

    One poller per mailbox at a time (a Redis lock, renewed while it works), and messages are classified
    in order, so a reply always finds the ticket it answers when both arrive in the same poll. While the
    plan queue is longer than TRIAGE_MAX_PLAN_BACKLOG the poll stops early; the rest waits in the mailbox.
    """
    rt = runtime()
    # Short, renewed in the background while the poll lives: a poller that dies frees it within a minute.
    lock = rt.store.mailboxes.poller_lock(source.name, POLLER_LOCK_S)
    if not lock.acquire():
        log.info("poll skipped source=%s reason=another poller holds the lock", source.name)
        return 0
    count = 0
    try:
        with kept_alive(lock, POLLER_LOCK_S):
            for message in source.pending():
                if (backlog := _plan_backlog(rt)) > rt.settings.max_plan_backlog:
                    limit = rt.settings.max_plan_backlog
                    log.warning("ingest paused source=%s plan_queue=%d limit=%d", source.name, backlog, limit)
                    break
                stored = _store_raw(rt, message)
                ingest_delivery(rt, stored)
                if rt.settings.redis_sentinels and not replicated(rt.store.redis):
                    # A failover now would lose its record: it stays in the mailbox, read again next poll.
                    raise ReplicaBehind(f"no replica has the record of {message.key} yet")
                source.mark_processed(message)
                count += 1
    except Exception as exc:
        rt.store.mailboxes.record_poll(source.name, ok=False)
        events.mailbox_polled(source.name, source.mailbox, False, count, repr(exc))
        raise
    rt.store.mailboxes.record_poll(source.name, ok=True)
    events.mailbox_polled(source.name, source.mailbox, True, count)
    return count


class ReplicaBehind(Exception):
    """No replica confirmed a message's record: the poll stops before marking it processed."""


def _store_raw(rt: Runtime, message: RawMessage) -> RawMessage:
    """Keep the message's bytes; when Redis has no room for them (or refuses them: a noeviction Redis at
    its maxmemory), the message is quarantined by reference (it stays in the mailbox, where the reason
    points) so the poller moves on, and the refusal is counted (metric and alert)."""
    if message.raw is None:
        return message
    size = len(message.raw)
    try:
        refused = rt.store.health.room_for(size)
        if refused is None:
            rt.store.deliveries.save_raw(message.delivery_id, message.raw)
    except OutOfMemoryError:
        refused = f"Redis refused its {size} bytes (out of memory)"
    if refused is None:
        return message
    events.message_not_stored(message.source, size)
    where = f"{message.source} under {message.key}"
    why = f"{refused}; see TriageRedisMemoryHigh: not stored, the message stays in {where}"
    return replace(message, raw=None, error=why)


def poll_once(source: MailSource) -> int:
    """One scheduled poll: a mailbox that is misconfigured fails it with one clear log line (the
    failure counts in the mailbox's health and its alert), not a traceback; the next poll tries again."""
    try:
        return poll_source(source)
    except MailboxMisconfigured as exc:
        log.error("poll failed source=%s error=%s", source.name, exc)
        return 0
    finally:
        source.close()


@app.task(name="triage.poll_maildir")
def poll_maildir() -> int:
    """Beat task: poll the configured Maildir once."""
    settings = runtime().settings
    if settings.maildir is None:
        return 0
    return poll_once(MaildirSource(settings.maildir, settings.max_message_bytes))


@app.task(name="triage.poll_imap")
def poll_imap() -> int:
    """Beat task: poll the configured IMAP folder once (connect, read new UIDs, log out)."""
    rt = runtime()
    config = rt.settings.imap_config()
    return 0 if config is None else poll_once(ImapSource(config, rt.store.mailboxes))


@app.task(name="triage.poll_mailbox")
def poll_mailbox(name: str) -> int:
    """Beat task: poll one mailbox of the mailboxes file (TRIAGE_MAILBOXES_PATH) once."""
    rt = runtime()
    spec = rt.desk(name).spec
    if spec is None:  # the file no longer names it (beat started before a change): nothing to read
        log.warning("poll skipped mailbox=%s reason=the mailboxes file does not name it", name)
        return 0
    return poll_once(source_for(spec, rt.settings, rt.store.mailboxes))


def follow_imap(source: ImapSource, *, interval_s: float, idle: bool, max_polls: int | None = None) -> None:
    """Keep a mailbox drained: poll, then wait for news (IDLE when the server has it, else sleep).

    A broken or hung connection is closed and retried with backoff and jitter; each failure is
    recorded (metric, log line, mailbox health), never silent.
    """
    failures = 0
    polls = 0
    while True:
        try:
            poll_source(source)
            polls += 1
            failures = 0
            if max_polls is not None and polls >= max_polls:
                return
            if not (idle and source.wait_for_mail(interval_s)):
                time.sleep(interval_s)
        except (*CONNECTION_ERRORS, IMAPClientError, MailboxMisconfigured) as exc:
            failures += 1
            source.close()
            delay = min(300.0, 2.0**failures) * (0.5 + random.random() / 2)
            log.warning(
                "imap connection failed source=%s failures=%d retry_in=%.1fs error=%r",
                source.name,
                failures,
                delay,
                exc,
            )
            time.sleep(delay)


def ingest_delivery(rt: Runtime, message: RawMessage) -> Delivery:
    """Record the outcome of one stored message and enqueue its run's planning; safe to repeat. Its
    span is the root of the mail's trace (monitoring/tracing.py), kept on the run it becomes."""
    where = {"delivery_id": message.delivery_id, "mailbox": message.mailbox, "source": message.source}
    with tracing.span("triage.ingest", **where) as trace:
        recorded = _ingest(rt, message, trace)
        if rt.settings.trace_content:
            tracing.note(subject=recorded.subject, sender=recorded.sender)
        return recorded


def _ingest(rt: Runtime, message: RawMessage, trace: str | None) -> Delivery:
    delivery_id = message.delivery_id
    recorded = rt.store.deliveries.get(delivery_id)
    if recorded is None and rt.store.deliveries.count_attempt(delivery_id) > rt.settings.poison_threshold:
        # Every earlier attempt died before recording an outcome: this message kills its worker.
        reason = f"poison: the ingest worker died {rt.settings.poison_threshold} times on this message"
        found = envelope_of(rt.store.deliveries.raw_head(delivery_id, PREVIEW_BYTES))
        poison = Delivery(
            delivery_id=delivery_id,
            source=message.source,
            key=message.key,
            mailbox=message.mailbox,
            **vars(found),
            outcome="quarantined",
            reason=reason,
        )
        recorded = rt.store.deliveries.record(poison)
        events.message_ingested(delivery_id, recorded.outcome, None, recorded.reason, recorded.mailbox)
    fresh = False
    if recorded is None:
        rules = thread_rules(rt, message.mailbox)
        classified = classify_delivery(rt.store, message, reading(rt), rules, trace)
        decided = deferred_if_flooding(rt, classified)
        recorded = rt.store.deliveries.record(decided)
        # Ours stands: its run was created just now and has no plan yet (unless it was deferred).
        fresh = recorded is decided and decided is classified
        events.message_ingested(
            delivery_id, recorded.outcome, recorded.run_id, recorded.reason, recorded.mailbox
        )
    run = rt.store.runs.get(recorded.run_id) if recorded.run_id else None
    if run is not None and (fresh or _unplanned(run)):  # also after a crash before enqueue
        queue_for_planning(rt, run)
    return recorded


def reading(rt: Runtime) -> Reading:
    """How this runtime reads a mail: TRIAGE_MAX_MESSAGE_BYTES, TRIAGE_SPAM_SCORE, the file limits,
    TRIAGE_TRUSTED_AUTHSERV_ID and TRIAGE_PARSE_DEADLINE_S."""
    settings = rt.settings
    return Reading(
        max_bytes=settings.max_message_bytes,
        spam_score=settings.spam_score,
        files=settings.file_limits(),
        authserv_id=settings.trusted_authserv_id,
        deadline_s=settings.parse_deadline_s,
    )


def thread_rules(rt: Runtime, mailbox: str) -> ThreadRules:
    """How this runtime tells replies in a mailbox: TRIAGE_THREAD_MATCH, its Jira project, dry-run or Jira."""
    config = rt.desk(mailbox).tool_config
    return ThreadRules(rt.settings.thread_match, config.jira_project, jira=not config.jira_dry_run)


def _unplanned(run: Run) -> bool:
    return run.plan is None and run.status != "deferred"


def deferred_if_flooding(rt: Runtime, decided: Delivery) -> Delivery:
    """The delivery as decided, or, when its run is one more than its sender's mailbox may start this
    hour (TRIAGE_SENDER_MAX_PER_HOUR), with its run deferred: it waits, planned by the sweeper when the
    sender's hour allows, so that one flood cannot hold up everyone else's mail. Nothing is dropped."""
    if decided.run_id is None or admitted(rt, decided.sender or ""):
        return decided
    rt.store.runs.set_status(decided.run_id, "deferred")
    limit = rt.settings.sender_max_per_hour
    note = f"deferred: its sender started over {limit} runs this hour (TRIAGE_SENDER_MAX_PER_HOUR)"
    events.run_deferred(decided.run_id, limit)
    return decided.model_copy(update={"reason": "; ".join(r for r in (decided.reason, note) if r)})


def admitted(rt: Runtime, sender: str) -> bool:
    """Count one more run of this sender's mailbox this hour; True while it is within the ceiling."""
    counted = rt.store.ledger.count_within(ledger_keys.intake_from(mailbox_of(sender)), 3600)
    return counted <= rt.settings.sender_max_per_hour


@app.task(name="triage.release_quarantined")
def release_quarantined(delivery_id: str, by: str) -> str:
    """A person released a quarantined message: classify its kept copy again (of a message over the size
    limit, its first 64 KB); its delivery then records the run it became, or stays in quarantine saying
    why it still cannot be one."""
    rt = runtime()
    held = rt.store.deliveries.get(delivery_id)
    if held is None or held.outcome not in HELD_OUTCOMES:
        return "not quarantined"
    message = RawMessage(delivery_id, held.source, held.key, None, mailbox=held.mailbox)
    with tracing.span("triage.ingest", delivery_id=delivery_id, mailbox=held.mailbox, released=True) as trace:
        rules, released = thread_rules(rt, message.mailbox), replace(reading(rt), spam_score=None)
        decided = classify_delivery(rt.store, message, released, rules, trace)
        if decided.outcome == "quarantined":
            decided = held.model_copy(
                update={"reason": f"{held.reason} (released by {by}: {decided.reason})"}
            )
        else:
            decided = decided.model_copy(update={"reason": f"released by {by}; was: {held.reason}"})
        rt.store.deliveries.release(decided)
        events.message_ingested(delivery_id, decided.outcome, decided.run_id, decided.reason, decided.mailbox)
    if decided.run_id and (run := rt.store.runs.get(decided.run_id)) is not None:
        queue_for_planning(rt, run)
    return decided.outcome
