"""`triage deliveries`: every mail, whatever it became, found by sender, subject words, issue key, outcome
and date; and the lines and JSON documents the list commands print."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import click

from agent.mail_search import MailFilter, find_mail
from agent.run import Delivery, DeliveryOutcome, Run
from agent.run_summary import summarize
from workers.runtime import Runtime

OUTCOMES = click.Choice(list(get_args(DeliveryOutcome)))


def when(text: str | None, end: bool = False) -> datetime | None:
    """A date (2026-12-01: the day's start, or with `end` its end; UTC) or an ISO 8601 time, as an aware
    time."""
    if text is None:
        return None
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (2026-12-01) or an ISO 8601 time") from None
    if end and len(text) == len("2026-12-01"):
        found += timedelta(days=1)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def mail_line(delivery: Delivery) -> str:
    """One delivery on one line: when, outcome, sender, subject, run, why."""
    subject = (delivery.subject or "")[:50] or "(no subject)"
    why = f"  ({delivery.reason})" if delivery.reason else ""
    return (
        f"{delivery.delivery_id}  {delivery.at:%Y-%m-%d %H:%M:%S}  {delivery.outcome:<11}  "
        f"{delivery.sender or '(no sender)':<32}  {subject:<50}  {delivery.run_id or '-'}{why}"
    )


def run_document(run: Run) -> dict[str, Any]:
    """A run as one JSON object for a list: its ids, status, what it came to, the ticket's envelope."""
    summary = summarize(run)
    return {
        "run_id": run.id,
        "created_at": run.created_at.isoformat(),
        "status": run.status,
        "sender": run.ticket.sender,
        "subject": run.ticket.subject,
        "message_id": run.ticket.message_id,
        "issue_key": summary.issue_key,
        "category": summary.category,
        "urgency": summary.urgency,
        "customer": summary.customer,
        "account_id": summary.account_id,
        "ack": summary.ack,
        "thread_of": run.ticket.thread_of,
        "error": run.error,
    }


@click.command()
@click.option("--sender", default=None, help="An address, or a part of one (a domain).")
@click.option("--subject", "words", default="", help="Words the subject holds, in any order.")
@click.option(
    "--issue", "issue_key", default=None, help="Mail whose ticket opened or commented on this issue."
)
@click.option("--message-id", default=None, help="The Message-ID, with or without <>.")
@click.option("--outcome", type=OUTCOMES, default=None, help="What the mail became.")
@click.option("--since", default=None, help="From this date or time on (UTC unless it says).")
@click.option("--until", default=None, help="Up to this date or time.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per mail.")
@click.pass_obj
def deliveries(
    rt: Runtime,
    sender: str | None,
    words: str,
    issue_key: str | None,
    message_id: str | None,
    outcome: DeliveryOutcome | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Every mail, whatever it became (ticket, reply, spam, out-of-office, quarantine), newest first."""
    wanted = MailFilter(
        sender=sender,
        words=words,
        outcome=outcome,
        issue_key=issue_key,
        message_id=message_id,
        since=when(since),
        until=when(until, end=True),
    )
    found = find_mail(rt.store, wanted, page=limit)
    for delivery in found.deliveries:
        click.echo(
            json.dumps(delivery.model_dump(mode="json"), ensure_ascii=False)
            if as_json
            else mail_line(delivery)
        )
    more = " (more: raise --limit)" if found.more else ""
    partial = "" if found.complete else " (stopped after the newest 50,000: narrow --since/--until)"
    click.echo(f"{len(found.deliveries)} mail(s){more}{partial}", err=True)
