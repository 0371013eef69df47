"""`triage llm pause|resume|status`: switch the model off and on for the whole fleet at once (every
worker asks before each call), with who did it and why in the audit trail."""

from __future__ import annotations

import click

from cli.review import BY
from workers.runtime import Runtime


@click.group()
def llm() -> None:
    """Switch the fleet's LLM off and on."""


@llm.command()
@click.option("--reason", required=True, help="Why (kept in the audit trail and on every run meanwhile).")
@BY
@click.pass_obj
def pause(rt: Runtime, reason: str, by: str) -> None:
    """Switch the model off for every worker: plans come from the rules until `resume`."""
    rt.store.llm.pause(by, reason[:500])
    rt.store.operations.record_audit("llm_pause", None, reason[:500], by=by)
    click.echo(f"the model is paused for the fleet: {reason}")


@llm.command()
@BY
@click.pass_obj
def resume(rt: Runtime, by: str) -> None:
    """Switch the model on again."""
    was = rt.store.llm.paused()
    if not rt.store.llm.resume():
        click.echo("the model was not paused")
        return
    rt.store.operations.record_audit("llm_resume", None, was.why() if was else "", by=by)
    click.echo("the model is on again")


@llm.command()
@click.pass_obj
def status(rt: Runtime) -> None:
    """Whether the model is on, and who paused it, when and why."""
    why = rt.store.llm.why_off()
    click.echo(why or f"on ({rt.settings.llm_model or 'no model configured: the rules plan'})")
