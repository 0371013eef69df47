"""The `triage` command: the group, its start-up (settings read once, the runtime built and passed to
every command as the click context's object) and the list of its commands. cli/entry.py runs it."""

from __future__ import annotations

import sys

import click
import redis

from cli import (
    assistant,
    console,
    demo,
    incidents,
    llm,
    mail,
    measure,
    operate,
    replay,
    review,
    runs,
    serve,
    settings,
)
from workers.app import configure
from workers.redaction import redacted
from workers.runtime import Runtime
from workers.settings import ConfigError, load_settings


class _TriageGroup(click.Group):
    """The command group: an unreachable Redis ends any command with one line naming the setting."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            rt = ctx.find_object(Runtime)
            url = rt.settings.redis_url if rt is not None else load_settings().redis_url
            click.echo(redacted(f"cannot reach Redis at {url} (TRIAGE_REDIS_URL): {exc}"), err=True)
            ctx.exit(2)


# The commands that neither run nor judge a plan: they need no consumed MCP server's tools, so they
# neither start stdio servers nor fail when one cannot be reached.
NO_PLANS = {
    "config",
    "dead-letters",
    "deliveries",
    "discard",
    "drop",
    "eval",
    "incidents",
    "jira",
    "llm",
    "metrics-server",
    "purge",
    "quarantine",
    "release",
    "review",
    "runs",
    "show",
    "train-categorizer",
}


@click.group(cls=_TriageGroup)
@click.version_option(package_name="ticket-triage", prog_name="triage")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Agentic support-ticket triage on Celery + Redis."""
    if ctx.obj is not None:  # a caller (a test, an embedding program) passed its own runtime
        return
    try:
        # Reads and checks the settings; connects to nothing yet, but to the MCP servers for their tools
        # where a command runs or judges plans.
        servers = ctx.invoked_subcommand not in NO_PLANS
        ctx.obj = configure(load_settings(), servers)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


for command in (
    demo.demo,
    runs.runs,
    runs.show,
    mail.deliveries,
    runs.plan,
    incidents.incidents,
    review.review,
    review.approve,
    review.reject,
    llm.llm,
    replay.replay,
    console.console,
    assistant.mcp_command,
    serve.worker,
    serve.ingest,
    serve.metrics_server,
    settings.config,
    settings.jira,
    operate.dead_letters,
    operate.retry,
    operate.discard,
    operate.purge,
    operate.quarantine,
    operate.release,
    operate.drop,
    measure.evaluate,
    measure.train_categorizer,
):
    main.add_command(command)
