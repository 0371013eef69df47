"""`triage review`, `approve` and `reject`: the review queue of runs the autonomy policy held."""

from __future__ import annotations

import getpass
import json
import sys

import click

from agent.autonomy import Decision, Edits
from agent.run import now
from tasks.review import NotDecided, decide
from workers.runtime import Runtime


def _login() -> str:
    """The login name, where the system knows one (a container may not)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


BY = click.option("--by", default=_login, show_default="the login name", help="Who decides (audit).")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per hold.")
@click.pass_obj
def review(rt: Runtime, as_json: bool) -> None:
    """The runs waiting for a person, oldest first: why they are held and until when."""
    waiting = rt.store.reviews.waiting()
    if not waiting and not as_json:
        click.echo(
            "nothing waits for review" + ("" if rt.policy else " (no TRIAGE_POLICY_PATH: nothing is held)")
        )
    for hold in waiting:
        run = rt.store.runs.get(hold.run_id)
        if as_json:
            click.echo(json.dumps({**hold.model_dump(mode="json"), "subject": run and run.ticket.subject}))
            continue
        subject = (run.ticket.subject[:50] if run else "") or "(no subject)"
        click.echo(f"{hold.run_id}  {hold.mode:<10}  held {hold.held_at:%Y-%m-%d %H:%M}  until "
                   f"{hold.expires_at:%Y-%m-%d %H:%M} then {hold.on_timeout}  rules {','.join(hold.rules)}  "
                   f"{subject}")  # fmt: skip


@click.command()
@click.argument("run_id")
@click.option("--category", default=None, help="The issue's category instead of the categorizer's.")
@click.option("--urgency", type=click.Choice(["low", "medium", "high"]), default=None, help="And priority.")
@click.option("--summary", default=None, help="The issue's summary instead of the mail's subject.")
@click.option("--priority", default=None, help="The issue's Jira priority instead of the urgency's.")
@click.option("--label", "labels", multiple=True, help="An extra label on the issue (repeatable).")
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@BY
@click.pass_obj
def approve(rt: Runtime, run_id: str, category: str | None, urgency: str | None, summary: str | None,
            priority: str | None, labels: tuple[str, ...], reason: str, by: str) -> None:  # fmt: skip
    """Let a held run go on, with a person's edits of the issue it opens (validated like any plan)."""
    try:
        edits = Edits.model_validate(
            {
                "category": category,
                "urgency": urgency,
                "summary": summary,
                "priority": priority,
                "labels": list(labels),
            }
        )
        decide(rt, run_id, Decision(action="approve", by=by, reason=reason, at=now(), edits=edits))
    except (NotDecided, ValueError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"approved {run_id}: it goes on")


@click.command()
@click.argument("run_id")
@click.option("--reason", required=True, help="Why (kept with the run and in the audit trail).")
@BY
@click.pass_obj
def reject(rt: Runtime, run_id: str, reason: str, by: str) -> None:
    """Close a held run without its side effects."""
    try:
        decide(rt, run_id, Decision(action="reject", by=by, reason=reason, at=now()))
    except NotDecided as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"rejected {run_id}")
