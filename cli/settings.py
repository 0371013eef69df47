"""`triage config` and `triage jira check`: the configuration in effect, and whether Jira accepts it."""

from __future__ import annotations

import sys

import click

from tools.jira_client import JiraUnreachable, check_jira
from workers.runtime import Runtime
from workers.settings import reference_table


@click.command()
@click.option("--markdown", is_flag=True, help="Print the reference table of every setting instead.")
@click.pass_obj
def config(rt: Runtime, markdown: bool) -> None:
    """Print the configuration in effect (secrets masked), or the reference of every setting."""
    if markdown:
        click.echo(reference_table())
        return
    for name, value in rt.settings.shown():
        click.echo(f"{name}={value}")


@click.group()
def jira() -> None:
    """Jira integration."""


@jira.command("check")
@click.pass_obj
def jira_check(rt: Runtime) -> None:
    """Verify the Jira settings against the server: auth, project, issue type, priorities, components."""
    config = rt.tool_config
    if config.jira_dry_run:
        click.echo("Jira is not configured (TRIAGE_JIRA_URL unset): issues are written in dry-run mode to "
                   f"{config.outbox_path}")  # fmt: skip
        return
    try:
        problems = check_jira(config)
    except JiraUnreachable as exc:
        click.echo(f"cannot reach Jira at {config.jira_url} (TRIAGE_JIRA_URL): {exc}", err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(f"problem: {problem}")
    if problems:
        sys.exit(1)
    click.echo(f"Jira at {config.jira_url}: credentials, project {config.jira_project}, issue type "
               f"{config.jira_issue_type}, priorities and components are all valid")  # fmt: skip
