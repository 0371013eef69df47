"""What one delivered message becomes: a ticket, a reply on its thread, a duplicate, automated mail,
spam, or quarantined with the reason. Read under a deadline: the parsing of a stranger's mail (MIME,
charsets, HTML) runs in a helper process that is stopped when it overruns, so no mail can hold the
poller, and the mail behind it, for longer than TRIAGE_PARSE_DEADLINE_S."""

from __future__ import annotations

from dataclasses import dataclass

from agent.run import Delivery
from agent.store import RunStore
from agent.threads import ThreadRules, find_thread, same_message, ticket_of_delivery
from inbox.attachments import DEFAULT_LIMITS, FileLimits
from inbox.parse import Incoming, Unparseable, parse_message
from inbox.preview import PREVIEW_BYTES, envelope_of
from inbox.source import RawMessage
from inbox.spam import DEFAULT_SCORE
from inbox.ticket import ticket_id_for
from tools.errors import RetryableToolError
from tools.sandbox import SANDBOX, Died, Overran

HELPER_WAIT_S = 300.0  # how long a mail waits for a free helper process before the poll is tried again


@dataclass(frozen=True)
class Reading:
    """How ingest reads a mail (from the settings): the size limit, the spam score (None: the spam gate
    is off, a person released the message), the file limits, whose Authentication-Results count, and
    the deadline of the parsing (None: parsed in this process, as a command line tool does)."""

    max_bytes: int
    spam_score: float | None = DEFAULT_SCORE
    files: FileLimits = DEFAULT_LIMITS
    authserv_id: str | None = None
    deadline_s: float | None = None


def read_mail(raw: bytes, reading: Reading) -> Incoming:
    """The parsed mail; Unparseable (with why) when it cannot become a ticket, or its parsing overran
    the deadline or killed the process it ran in (twice: once may be a signal meant for the worker)."""
    kwargs = {
        "max_bytes": reading.max_bytes,
        "spam_score": reading.spam_score or DEFAULT_SCORE,
        "files": reading.files,
        "authserv_id": reading.authserv_id,
    }
    if reading.deadline_s is None:
        return parse_message(raw, **kwargs)  # type: ignore[arg-type]
    for again in (False, True):
        try:
            incoming: Incoming = SANDBOX.call(
                "inbox.parse:parse_message", (raw,), kwargs, reading.deadline_s, HELPER_WAIT_S
            )
            return incoming
        except Died as exc:  # the mail killed it, or SIGKILL did at that moment: a fresh helper tells
            if again:
                raise Unparseable(f"reading it killed the process that read it, twice: {exc}") from None
        except Overran as exc:
            raise Unparseable(f"reading it was stopped (TRIAGE_PARSE_DEADLINE_S): {exc}") from None
        except RetryableToolError:
            raise  # no helper free, none lives, a stop signal: not the mail's fault; the poll stops
    raise AssertionError("not reached")  # pragma: no cover


def classify_delivery(
    store: RunStore, message: RawMessage, reading: Reading, threads: ThreadRules, trace: str | None = None
) -> Delivery:
    """Decide what one message becomes and create its run (`trace`: the traceparent it keeps, of the
    span its reading is traced in); idempotent for a redelivered task. The bytes are the ones the poll
    read (and stored), or the stored copy when the poll did not keep them."""
    delivery_id = message.delivery_id
    base = {
        "delivery_id": delivery_id,
        "source": message.source,
        "key": message.key,
        "mailbox": message.mailbox,
    }
    if message.error is not None:  # found again by what the head it read says (over the limit: 64 KB)
        found = envelope_of(message.raw or store.deliveries.raw_head(delivery_id, PREVIEW_BYTES))
        return Delivery(**base, **vars(found), outcome="quarantined", reason=message.error)
    raw = message.raw if message.raw is not None else store.deliveries.raw(delivery_id)
    if raw is None:
        return Delivery(**base, outcome="quarantined", reason="raw message missing from the store (expired?)")
    try:
        incoming = read_mail(raw, reading)
    except Unparseable as exc:  # found again by what its first bytes say, without parsing the rest
        found = envelope_of(raw)
        return Delivery(**base, **vars(found), outcome="quarantined", reason=exc.reason)
    ticket = incoming.ticket
    base |= {"message_id": ticket.message_id, "sender": ticket.sender, "subject": ticket.subject}
    if incoming.automated:
        return Delivery(**base, outcome="automated", reason=incoming.automated)
    if incoming.spam and reading.spam_score is not None:
        return Delivery(**base, outcome="spam", reason=incoming.spam)
    notes = [f"its sender is not trusted: {ticket.sender_doubt}"] if ticket.sender_doubt else []
    owner = store.deliveries.claim_message_id(ticket.message_id, delivery_id)
    if owner != delivery_id:
        first = ticket_of_delivery(store, owner)
        if first is None or same_message(first, ticket):
            return Delivery(**base, outcome="duplicate", reason=f"Message-ID already delivered as {owner}")
        # A leaked Message-ID reused by another sender or text: a ticket of its own, never a duplicate.
        ticket = ticket.model_copy(update={"id": ticket_id_for(f"{ticket.message_id}\n{delivery_id}")})
        notes.append(f"its Message-ID was first used by {owner} for another message")
    thread = find_thread(store, ticket, threads)
    if thread.refused:
        notes.append(thread.refused)
    ticket = ticket.model_copy(update={"thread_of": thread.root, "mailbox": message.mailbox})
    store.runs.create(ticket.id, ticket, trace)
    if thread.root:
        reason = f"reply to ticket {thread.root}{thread.how}"
        return Delivery(**base, outcome="threaded", run_id=ticket.id, reason=reason)
    return Delivery(**base, outcome="ticket", run_id=ticket.id, reason="; ".join(notes) or None)
