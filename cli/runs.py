"""`triage runs`, `show` and `plan`: reading the run store, and what the planner would do with a mail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from agent.plan import PlanInvalid
from agent.policy import review_plan
from inbox.parse import Unparseable, parse_message
from workers.runtime import Runtime


@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
@click.pass_obj
def runs(rt: Runtime, limit: int) -> None:
    """Recent runs, newest first, one line each."""
    for run in rt.store.runs.recent(limit):
        subject = run.ticket.subject[:50] or "(no subject)"
        click.echo(
            f"{run.id}  {run.created_at:%Y-%m-%d %H:%M:%S}  {run.status:<11}  {run.planner or '-':<8}  "
            f"{run.ticket.sender:<32}  {subject}"
        )


@click.command()
@click.argument("ident")
@click.pass_obj
def show(rt: Runtime, ident: str) -> None:
    """Everything about one run, by run id, Message-ID or delivery id: one JSON document.

    A run id prints the run; a Message-ID or delivery id prints {"delivery": ..., "run": ... or null}.
    """
    store = rt.store
    run = store.runs.get(ident)
    if run is not None:
        click.echo(run.model_dump_json(indent=2))
        return
    delivery = store.deliveries.get(ident) or store.deliveries.get(
        store.deliveries.message_owner(ident.strip("<>")) or ""
    )
    if delivery is None:
        click.echo(f"no run, message or delivery {ident!r} in namespace {store.keys.prefix[:-1]!r}", err=True)
        sys.exit(1)
    run = store.runs.get(delivery.run_id) if delivery.run_id else None
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
