"""`triage runs`, `show` and `plan`: reading the run store, and what the planner would do with a mail."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import click

from agent.mail_search import MailFilter, find_mail, looks_like_issue_key
from agent.plan import PlanInvalid
from agent.policy import review_plan
from agent.run import Delivery, Run, RunStatus
from agent.run_summary import summarize
from cli.mail import mail_line, run_document
from console.views import RunFilter, find_runs
from inbox.parse import Unparseable, parse_message
from workers.runtime import Runtime


@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--issue", "issue_key", default=None, help="Only the runs that opened or commented on this issue."
)
@click.option("--status", type=click.Choice(list(get_args(RunStatus))), default=None, help="Only runs in it.")
@click.option(
    "--mailbox", default=None, help="Only the runs of this mailbox (its name in the mailboxes file)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.pass_obj
def runs(
    rt: Runtime,
    limit: int,
    issue_key: str | None,
    status: RunStatus | None,
    mailbox: str | None,
    as_json: bool,
) -> None:
    """Recent runs, newest first, one line each: issue, urgency and customer beside sender and subject."""
    wanted = RunFilter(status=status, mailbox=mailbox)
    if issue_key is not None:
        found = [r for r in map(rt.store.runs.get, reversed(rt.store.runs.with_issue(issue_key))) if r]
        chosen = [r for r in found if wanted.matches(r)][:limit]
    else:  # the console's search: paged reads, bounded (views.SCAN_LIMIT)
        chosen = find_runs(rt.store, wanted, page=limit).runs
    for run in chosen:
        if as_json:
            click.echo(json.dumps(run_document(run), ensure_ascii=False))
            continue
        click.echo(run_line(run))


@click.command()
@click.argument("ident")
@click.pass_obj
def show(rt: Runtime, ident: str) -> None:
    """Everything about one run or mail, by run id, delivery id, Message-ID or issue key (one JSON
    document); a sender, subject words or a date (2026-12-01) list the mail they find.

    A run id prints the run; a Message-ID or delivery id prints {"delivery": ..., "run": ... or null}; an
    issue key prints {"issue_key": ..., "runs": [...]}, the run that opened it first.
    """
    store = rt.store
    run = store.runs.get(ident)
    if run is not None:
        click.echo(run.model_dump_json(indent=2))
        return
    delivery = store.deliveries.get(ident) or store.deliveries.get(
        store.deliveries.message_owner(ident.strip("<>")) or ""
    )
    if delivery is not None:
        _show_delivery(rt, delivery)
        return
    if looks_like_issue_key(ident) and (ids := store.runs.with_issue(ident.upper())):
        issue_runs = [r.model_dump(mode="json") for r in map(store.runs.get, ids) if r]
        click.echo(json.dumps({"issue_key": ident.upper(), "runs": issue_runs}, indent=2, ensure_ascii=False))
        return
    by_id = find_mail(store, MailFilter(message_id=ident), page=1).deliveries if "@" in ident else []
    found = by_id or find_mail(store, _guess(ident), page=50).deliveries
    if len(found) == 1:
        _show_delivery(rt, found[0])
        return
    for match in found:
        click.echo(mail_line(match))
    if found:
        click.echo(f"{len(found)} mails match: `triage show DELIVERY_ID` shows one", err=True)
        return
    where = store.keys.prefix[:-1]
    click.echo(f"no run, mail, issue, sender or subject matches {ident!r} in namespace {where!r}", err=True)
    sys.exit(1)


def run_line(run: Run) -> str:
    """One run on one line: id, when, status, issue, urgency, customer, sender, subject."""
    summary = summarize(run)
    issue, urgency, customer = (
        summary.issue_key or "-",
        summary.urgency or "-",
        (summary.customer or "-")[:20],
    )
    when = f"{run.created_at:%Y-%m-%d %H:%M:%S}"
    subject = run.ticket.subject[:40] or "(no subject)"
    return (
        f"{run.id}  {when}  {run.status:<11}  {issue:<10}  {urgency:<6}  {customer:<20}  "
        f"{run.ticket.sender[:32]:<32}  {subject}"
    )


def _guess(ident: str) -> MailFilter:
    """What a word typed to `show` most likely is: a date, an address (or a part with @), subject words."""
    try:
        day = datetime.fromisoformat(ident) if len(ident) == len("2026-12-01") else None
    except ValueError:
        day = None
    if day is not None:
        start = day.replace(tzinfo=UTC)
        return MailFilter(since=start, until=start + timedelta(days=1))
    return MailFilter(sender=ident) if "@" in ident else MailFilter(words=ident)


def _show_delivery(rt: Runtime, delivery: Delivery) -> None:
    run = rt.store.runs.get(delivery.run_id) if delivery.run_id else None
    document = {"delivery": delivery.model_dump(mode="json"), "run": run and run.model_dump(mode="json")}
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@click.command()
@click.option("--show", "email", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="An .eml file to plan.")  # fmt: skip
@click.pass_obj
def plan(rt: Runtime, email: Path) -> None:
    """Print the plan the configured planner makes for one e-mail, with the repair history."""
    try:
        incoming = parse_message(
            email.read_bytes(), max_bytes=rt.settings.max_message_bytes, files=rt.settings.file_limits()
        )
    except Unparseable as exc:
        click.echo(f"quarantined: {exc.reason}", err=True)
        sys.exit(1)
    if incoming.automated:
        click.echo(f"automated ({incoming.automated}): no ticket, no plan")
        return
    planned = rt.planner.make_plan(incoming.ticket)
    click.echo(f"planner: {planned.planner}  prompt: {planned.prompt_version or '-'}")
    for note in planned.notes:
        click.echo(f"  {note}")
    if planned.usage is not None:
        u = planned.usage
        tokens = f"{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens"
        click.echo(f"usage: {u.calls} call(s), {tokens}, {u.latency_s:.2f}s, ${u.cost_usd:.6f}")
    click.echo(planned.plan.model_dump_json(indent=2))
    try:
        review_plan(planned.plan, incoming.ticket, rt.catalog, max_steps=rt.settings.max_plan_steps)
    except PlanInvalid as exc:
        click.echo(f"the plan would be rejected: {exc}", err=True)
        sys.exit(1)
