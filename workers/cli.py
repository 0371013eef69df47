"""The `triage` command: demo, workers, ingest, and reading the run store."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from workers.settings import ConfigError


class _TriageGroup(click.Group):
    """The command group: an unreachable Redis ends any command with one line naming the setting."""

    def invoke(self, ctx: click.Context) -> object:
        import redis

        try:
            return super().invoke(ctx)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            from workers.settings import load_settings, redact_url

            url = redact_url(load_settings().redis_url)
            click.echo(f"cannot reach Redis at {url} (TRIAGE_REDIS_URL): {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_TriageGroup)
@click.version_option(package_name="ticket-triage", prog_name="triage")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Agentic support-ticket triage on Celery + Redis."""
    if (
        ctx.invoked_subcommand in ("worker", "metrics-server")
        and "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    ):
        # Before prometheus-client is imported: a prefork worker's processes share one metrics folder.
        from monitoring.multiproc import prepare_multiprocess_dir

        prepare_multiprocess_dir(os.environ.get("TRIAGE_METRICS_DIR"))
    try:
        from workers import app  # noqa: F401  (reads and checks the settings)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@main.command()
@click.option("--maildir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Maildir to process (default: the sample mailbox in examples/).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message on stdout.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for every message.")
@click.option(
    "--local-llm", is_flag=True, help="Plan and analyse with the local SmolLM2 model (.[llm-local])."
)
@click.option("--imap", is_flag=True, help="Read the TRIAGE_IMAP_* folder (read-only) instead of a Maildir.")
@click.option(
    "--outbox",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("var/demo-outbox.jsonl"),
    show_default=True,
    help="Where the dry-run Jira payloads are written (anew each run).",
)
def demo(
    maildir: Path | None, as_json: bool, timeout: float, local_llm: bool, imap: bool, outbox: Path
) -> None:
    """Run a mailbox through the whole pipeline (real workers, Redis or an embedded one) and report."""
    from workers.demo import run_demo

    if imap and maildir is not None:
        raise click.UsageError("give --maildir DIR or --imap, not both")
    sys.exit(run_demo(maildir, as_json, timeout_s=timeout, local_llm=local_llm, imap=imap, outbox=outbox))


@main.command()
@click.option("--show", "email", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="An .eml file to plan.")  # fmt: skip
def plan(email: Path) -> None:
    """Print the plan the configured planner makes for one e-mail, with the repair history."""
    from agent.plan import PlanInvalid
    from agent.policy import review_plan
    from inbox.parse import Unparseable, parse_message
    from workers.runtime import runtime

    rt = runtime()
    try:
        incoming = parse_message(email.read_bytes(), max_bytes=rt.settings.max_message_bytes)
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


@main.command()
@click.option(
    "--role", type=click.Choice(["ingest", "plan", "execute", "all"]), default="all", show_default=True
)
@click.option(
    "--concurrency", "-c", type=int, default=None, help="Processes/threads (TRIAGE_WORKER_CONCURRENCY)."
)
@click.option(
    "--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork", show_default=True
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--task-events", "-E", is_flag=True, help="Send task events for Flower (TRIAGE_TASK_EVENTS).")
def worker(role: str, concurrency: int | None, pool: str, loglevel: str, task_events: bool) -> None:
    """Start a Celery worker for a role's queues (ingest and all also run beat: polls and the sweeper)."""
    from celery.bin.celery import celery as celery_command

    from workers.app import ROLES
    from workers.runtime import runtime

    settings = runtime().settings
    argv = ["worker", "--queues", ",".join(ROLES[role]), "--hostname", f"{role}@%h", "--pool", pool]
    argv += ["--loglevel", loglevel, "--concurrency", str(concurrency or settings.worker_concurrency)]
    if role in ("ingest", "all"):
        argv.append("--beat")
    if task_events or settings.task_events:
        argv.append("--task-events")
    # Not app.worker_main: it drops Celery's exit code, so a worker that died of an unrecoverable error
    # (its pool could not start, say) exited 0 and a supervisor restarting on failure left it dead.
    raise SystemExit(celery_command.main(args=["--app", "workers.app:app", *argv], standalone_mode=False))


@main.command()
@click.option("--maildir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None)
@click.option("--imap", is_flag=True, help="Read the IMAP folder of the TRIAGE_IMAP_* settings.")
@click.option(
    "--follow", is_flag=True, help="Keep going: IMAP IDLE when supported, else poll every interval."
)
def ingest(maildir: Path | None, imap: bool, follow: bool) -> None:
    """Ingest new mail: record each message's outcome and enqueue planning on Redis."""
    from inbox.imap import ImapSource
    from inbox.maildir import MaildirSource
    from inbox.source import MailboxMisconfigured
    from tasks.ingest import follow_imap, poll_source
    from workers.logs import setup_logging
    from workers.runtime import runtime

    rt = runtime()
    setup_logging(rt.settings.log_format)
    if imap == (maildir is not None):
        raise click.UsageError("give exactly one of --maildir DIR or --imap")
    try:
        if maildir is not None:
            source = MaildirSource(maildir)
            while True:
                click.echo(f"ingested {poll_source(source)} message(s) from {source.name}")
                if not follow:
                    return
                time.sleep(rt.settings.poll_interval_s)
        config = rt.settings.imap_config()
        if config is None:
            raise click.UsageError("--imap needs TRIAGE_IMAP_HOST, TRIAGE_IMAP_USER and a password or token")
        imap_source = ImapSource(config, rt.store)
        try:
            if follow:
                follow_imap(imap_source, interval_s=rt.settings.poll_interval_s, idle=rt.settings.imap_idle)
            else:
                click.echo(f"ingested {poll_source(imap_source)} message(s) from {imap_source.name}")
        finally:
            imap_source.close()
    except MailboxMisconfigured as exc:
        click.echo(str(exc).replace("TRIAGE_MAILDIR", "--maildir") if maildir else str(exc), err=True)
        sys.exit(2)


@main.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
def runs(limit: int) -> None:
    """Recent runs, newest first, one line each."""
    from workers.runtime import runtime

    for run in runtime().store.recent_runs(limit):
        subject = run.ticket.subject[:50] or "(no subject)"
        click.echo(
            f"{run.id}  {run.created_at:%Y-%m-%d %H:%M:%S}  {run.status:<11}  {run.planner or '-':<8}  "
            f"{run.ticket.sender:<32}  {subject}"
        )


@main.command()
@click.argument("ident")
def show(ident: str) -> None:
    """Everything about one run, by run id, Message-ID or delivery id: one JSON document.

    A run id prints the run; a Message-ID or delivery id prints {"delivery": ..., "run": ... or null}.
    """
    from workers.runtime import runtime

    store = runtime().store
    run = store.get_run(ident)
    if run is not None:
        click.echo(run.model_dump_json(indent=2))
        return
    delivery = store.delivery(ident) or store.delivery(store.message_owner(ident.strip("<>")) or "")
    if delivery is None:
        click.echo(f"no run, message or delivery {ident!r} in namespace {store.keys.prefix[:-1]!r}", err=True)
        sys.exit(1)
    run = store.get_run(delivery.run_id) if delivery.run_id else None
    document = {"delivery": delivery.model_dump(mode="json"), "run": run and run.model_dump(mode="json")}
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@main.command("metrics-server")
@click.option("--port", type=int, default=None, help="Port (default TRIAGE_METRICS_PORT).")
def metrics_server(port: int | None) -> None:
    """Serve /metrics for the state in Redis (queue depth, runs in progress, dead letters, mailboxes)."""
    from monitoring.exporter import build_registry, serve_metrics
    from workers.app import metrics_port, queue_keys
    from workers.runtime import runtime

    rt = runtime()
    chosen = port if port is not None else metrics_port(rt.settings, "all")
    serve_metrics(chosen, rt.settings.metrics_host, build_registry(rt.store, queue_keys(rt.settings)))
    click.echo(f"serving /metrics on {rt.settings.metrics_host}:{chosen}")
    while True:
        time.sleep(3600)


@main.command()
@click.option("--markdown", is_flag=True, help="Print the reference table of every setting instead.")
def config(markdown: bool) -> None:
    """Print the configuration in effect (secrets masked), or the reference of every setting."""
    from workers.runtime import runtime
    from workers.settings import reference_table

    if markdown:
        click.echo(reference_table())
        return
    for name, value in runtime().settings.shown():
        click.echo(f"{name}={value}")


@main.group()
def jira() -> None:
    """Jira integration."""


@jira.command("check")
def jira_check() -> None:
    """Verify the Jira settings against the server: auth, project, issue type, priorities, components."""
    from tools.jira_client import JiraUnreachable, check_jira
    from workers.runtime import runtime

    config = runtime().tool_config
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


# Operator and measurement commands live in their own module; they join this group on import.
from workers import cli_operations  # noqa: E402, F401

if __name__ == "__main__":
    main()
