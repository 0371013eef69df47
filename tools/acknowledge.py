"""acknowledge: answer a new ticket at once with its reference, by mail, once (RFC 3834 auto-reply).

The message says the request arrived and names the Jira issue; it replies to the customer's message
(In-Reply-To, References) under a Message-ID the system recognises, so a reply to it joins the ticket.

A support address is public and a From can be forged, so an acknowledgement must not be a way to mail a
stranger's words to a third party: it goes to no sender the inbox does not trust (inbox/sender.py), to
no robot or no-reply address, and to no mailbox, domain or anyone beyond the hourly caps
(TRIAGE_ACK_PER_SENDER_HOUR, TRIAGE_ACK_PER_DOMAIN_HOUR, TRIAGE_ACK_PER_HOUR). It quotes nothing of the
mail but the issue key and a short subject without addresses or links, and greets a sender by name only
when the operator's mail server authenticated them. The SMTP relay's own limit is the fleet's: each
message waits its turn under TRIAGE_SMTP_PER_S. Without an SMTP server the exact message is kept in the
dry-run outbox.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from pydantic import BaseModel, Field

from tools import ledger_keys, mail_out, outbox
from tools.ack_templates import templates
from tools.base import RetryPolicy, ToolConfig, ToolContext, tool
from tools.pacing_port import Limit, take_turn

_FLAT = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")
# Addresses, links and anything that reads as a host name (`buy-now.example/x`, `www.x`, `a@b.c`).
_LINKS = re.compile(r"\S*@\S+|\S*://\S*|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}\b\S*", re.IGNORECASE)
SMTP_TURN_BUDGET_S = 10.0  # how long a message waits for the relay's turn before its step is requeued
_SMTP_RETRY = RetryPolicy(max_attempts=6, base_s=5, cap_s=300)


class AckArgs(BaseModel):
    """Whom to answer and about what: the ticket's own sender and Message-ID (plan policy allows nothing
    else there), its subject, and the issue that tracks it."""

    to: str = Field(description="the customer's address (ticket.sender)")
    name: str | None = Field(None, description="the customer's name, if known")
    subject: str
    message_id: str = Field(description="the customer's Message-ID (ticket.message_id): the reply's parent")
    issue_key: str = Field(description="the reference the customer is given (the Jira issue key)")
    category: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,40}$",
        description="the ticket's category (some get no acknowledgement)",
        json_schema_extra={"literal": True},  # a closed choice: a person's edit of a held run names one
    )
    language: str | None = Field(None, description="the customer's language (ISO 639-1); English if none")


class AckResult(BaseModel):
    """Whether an acknowledgement went out, under which Message-ID and in which language, or why not."""

    sent: bool
    dry_run: bool
    message_id: str | None = None
    language: str | None = None
    skipped: str | None = Field(None, description="why no acknowledgement was sent")


def _skip(why: str, ctx: ToolContext) -> AckResult:
    return AckResult(sent=False, dry_run=ctx.config.ack_dry_run, skipped=why)


@tool(
    name="acknowledge",
    description="Answer a new ticket's sender by mail at once with its reference (the issue key), once; "
    "never to robots or no-reply addresses. Only for new tickets, after the issue exists.",
    args=AckArgs,
    result=AckResult,
    side_effect=True,
    timeout_s=60.0,
    retry=_SMTP_RETRY,
    best_effort=True,  # a ticket whose acknowledgement cannot go out is still a ticket, and says so
)
def acknowledge(args: AckArgs, ctx: ToolContext) -> AckResult:
    """Send the acknowledgement once; later attempts get the first one's result back."""
    config = ctx.config
    if config.ack == "off":
        return _skip("acknowledgements are off (TRIAGE_ACK)", ctx)
    if args.category in config.ack_skip_categories:
        return _skip(f"category {args.category} gets none (TRIAGE_ACK_SKIP_CATEGORIES)", ctx)
    if ctx.sender_doubt:
        return _skip(f"the sender is not trusted: {ctx.sender_doubt}", ctx)
    if why := mail_out.never_answered(args.to):
        return _skip(why, ctx)
    if (done := ctx.ledger.get(ctx.idempotency_key)) is not None:
        return AckResult.model_validate(done)
    with ctx.ledger.exclusive(ctx.idempotency_key, ttl_s=ctx.hard_timeout_s):
        if (done := ctx.ledger.get(ctx.idempotency_key)) is not None:
            return AckResult.model_validate(done)
        sending = ledger_keys.ack_sending(ctx.ticket_id, ctx.step_id)
        earlier = ctx.ledger.get(sending)  # an attempt that may have reached the server: same message again
        if earlier is None:
            if over := _over_cap(args.to, ctx):
                return _record(ctx, _skip(over, ctx))
            earlier = {
                "message_id": mail_out.acknowledgement_id(ctx.ticket_id, config.ack_from.rpartition("@")[2])
            }
            ctx.ledger.note(sending, earlier)
        message_id = str(earlier["message_id"])
        language = templates(config.ack_templates_dir).language(args.language)
        greeted = args if ctx.sender_authenticated else args.model_copy(update={"name": None})
        message = compose(greeted, config, message_id, language)
        sent = AckResult(sent=True, dry_run=config.smtp is None, message_id=message_id, language=language)
        if config.smtp is None:  # at most once: the record is claimed before the line is written
            result = _record(ctx, sent)
            line = {"to": args.to, "message_id": message_id, "message": message.as_string()}
            outbox.append(config.mail_outbox_path, "acknowledgement", ctx.run_id, ctx.idempotency_key, line)
            return result
        if ctx.pacer is not None:  # the relay's limit is the fleet's: a turn under it first
            relay = [Limit(f"smtp:{config.smtp.host}:{config.smtp.port}", config.smtp_per_s, 1)]
            take_turn(ctx.pacer, relay, "smtp", SMTP_TURN_BUDGET_S)
        mail_out.send(config.smtp, message.as_bytes(), config.ack_from, args.to)
        return _record(ctx, sent)


def _over_cap(address: str, ctx: ToolContext) -> str | None:
    """Why one more acknowledgement to this address would pass a cap (its mailbox's, its domain's, the
    whole system's), or None. Each cap counts only what passed the narrower ones."""
    config = ctx.config
    mailbox = mail_out.mailbox_of(address)
    domain = mailbox.rpartition("@")[2]
    caps = (
        (ledger_keys.acks_to(mailbox), config.ack_per_sender_hour, "to this mailbox"),
        (ledger_keys.acks_to_domain(domain), config.ack_per_domain_hour, "to this domain"),
        (ledger_keys.ACKS_ALL, config.ack_per_hour, "in all"),
    )
    for key, limit, whom in caps:
        if ctx.ledger.count_within(key, 3600) > limit:
            return f"over {limit} acknowledgements {whom} in an hour (TRIAGE_ACK_PER_*)"
    return None


def _record(ctx: ToolContext, result: AckResult) -> AckResult:
    _, stored = ctx.ledger.claim(ctx.idempotency_key, result.model_dump(mode="json"))
    return AckResult.model_validate(stored)


def compose(args: AckArgs, config: ToolConfig, message_id: str, language: str) -> EmailMessage:
    """The acknowledgement in `language`, in the company's voice (its templates, sender name and
    signature): a plain-text reply to the customer's message (RFC 3834)."""
    words = templates(config.ack_templates_dir)
    template = words.by_language[language]
    name = _flat(args.name or "", 80)
    fill = {
        "issue_key": _flat(args.issue_key, 40),
        "subject": quoted_subject(args.subject) or "-",
        "greeting": words.greeting(language, name),
        "signature": config.ack_signature,
    }
    body = template.body.safe_substitute(fill).rstrip() + "\n"
    if config.ack_signature and "signature" not in template.body.get_identifiers():
        body = f"{body}\n-- \n{config.ack_signature}\n"
    message = EmailMessage()
    message["From"] = (
        formataddr((config.ack_from_name, config.ack_from)) if config.ack_from_name else config.ack_from
    )
    message["To"] = formataddr((name, args.to)) if name else args.to
    message["Subject"] = template.subject.safe_substitute(fill)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id}>"
    message["In-Reply-To"] = f"<{args.message_id}>"
    message["References"] = f"<{args.message_id}>"
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: no machine answers this one
    message["X-Auto-Response-Suppress"] = "All"  # Exchange's out-of-office replies stay away
    message.set_content(body)
    return message


def quoted_subject(subject: str) -> str:
    """What an acknowledgement may quote of a stranger's subject: at most 60 characters on one line,
    with addresses, links and host names taken out (an acknowledgement must not carry spam)."""
    return _flat(_LINKS.sub(" ", subject[:300]), 60)  # a link cut at 300 is still taken out


def _flat(text: str, limit: int) -> str:
    """A customer's text made fit for one header line: no control or direction-override characters."""
    return " ".join(_FLAT.sub(" ", text).split())[:limit]
