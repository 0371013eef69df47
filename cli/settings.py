"""`triage config` and `triage jira check`: the configuration in effect, its reference, and whether
Jira accepts it."""

from __future__ import annotations

import sys

import click

from tools.jira_client import JiraUnreachable
from tools.jira_site import check_site
from workers.redaction import redacted
from workers.runtime import Runtime
from workers.settings import Settings

_DOC_DEFAULTS = {  # defaults that read better in the reference than their Python repr
    "categories_file": "tools/data/categories.json (shipped)",
    "llm_api_key": "unused",
    "llm_prices": "list prices of gpt-4o(-mini), gpt-4.1(-mini)",
}


def reference_table() -> str:
    """The configuration reference as a Markdown table (the README's is generated from it)."""
    rows = ["| variable | what it is | default |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = _DOC_DEFAULTS.get(name, "unset" if field.default is None else field.default)
        rows.append(f"| `TRIAGE_{name.upper()}` | {field.description} | `{default}` |")
    return "\n".join(rows)


def shown(settings: Settings) -> list[tuple[str, str]]:
    """(variable, value) of every setting as it is safe to print: secrets and URL passwords masked."""
    return [(f"TRIAGE_{name.upper()}", redacted(str(value))) for name, value in settings]


@click.command()
@click.option("--markdown", is_flag=True, help="Print the reference table of every setting instead.")
@click.pass_obj
def config(rt: Runtime, markdown: bool) -> None:
    """Print the configuration in effect (secrets masked), or the reference of every setting."""
    if markdown:
        click.echo(reference_table())
        return
    for name, value in shown(rt.settings):
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
        problems = check_site(config)
    except JiraUnreachable as exc:
        click.echo(redacted(f"cannot reach Jira at {config.jira_url} (TRIAGE_JIRA_URL): {exc}"), err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(f"problem: {problem}")
    if problems:
        sys.exit(1)
    where = redacted(str(config.jira_url))
    click.echo(
        f"Jira at {where}: credentials, project {config.jira_project}, issue type {config.jira_issue_type}, "
        "priorities and components are all valid"
    )
