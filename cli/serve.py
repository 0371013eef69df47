"""`triage worker`, `ingest` and `metrics-server`: the long-running processes an operator deploys."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from celery.bin.celery import celery as celery_command

from inbox.imap import ImapSource
from inbox.maildir import MaildirSource
from inbox.source import MailboxMisconfigured
from monitoring.exporter import build_registry, serve_metrics
from tasks.ingest import follow_imap, poll_source
from workers.app import QUEUES, ROLES, metrics_port, settle_memory
from workers.logs import setup_logging
from workers.memory_choice import claimed, worker_memory
from workers.runtime import Runtime


@click.command()
@click.option(
    "--role", type=click.Choice(["ingest", "plan", "execute", "all"]), default="all", show_default=True
)
@click.option(
    "--concurrency", "-c", type=int, default=None, help="Processes/threads (TRIAGE_WORKER_CONCURRENCY)."
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default=None,
    help="[default: prefork; threads for an `all` worker keeping memory in its embedded folder]",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--task-events", "-E", is_flag=True, help="Send task events for Flower (TRIAGE_TASK_EVENTS).")
@click.pass_obj
def worker(
    rt: Runtime, role: str, concurrency: int | None, pool: str | None, loglevel: str, task_events: bool
) -> None:
    """Start a Celery worker for a role's queues (ingest and all also run beat: polls and the sweeper)."""
    processes = concurrency or rt.settings.worker_concurrency
    memory = claimed(worker_memory(rt.settings, role, pool, processes), rt.settings)
    if memory.note is not None:
        click.echo(memory.note, err=True)
    settings = rt.settings
    if memory.memory != settings.memory:  # auto decided, or a folder it may not share
        os.environ["TRIAGE_MEMORY"] = memory.memory  # what the pool's processes read, if they read again
        settings = settle_memory(settings, memory.memory)
    # A node name of its own even beside a worker of the same role on this host: RabbitMQ gives each
    # node's remote-control queue to one connection only (a second "all@host" could not start).
    node = f"{role}-{os.getpid()}@%h"
    argv = ["worker", "--queues", ",".join(ROLES[role]), "--hostname", node, "--pool", memory.pool]
    argv += ["--loglevel", loglevel, "--concurrency", str(processes)]
    if role in ("ingest", "all"):
        argv.append("--beat")
    if task_events or settings.task_events:
        argv.append("--task-events")
    # Not app.worker_main: it drops Celery's exit code, so a worker that died of an unrecoverable error
    # (its pool could not start, say) exited 0 and a supervisor restarting on failure left it dead.
    raise SystemExit(celery_command.main(args=["--app", "workers.app:app", *argv], standalone_mode=False))


@click.command()
@click.option("--maildir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None)
@click.option("--imap", is_flag=True, help="Read the IMAP folder of the TRIAGE_IMAP_* settings.")
@click.option(
    "--follow", is_flag=True, help="Keep going: IMAP IDLE when supported, else poll every interval."
)
@click.pass_obj
def ingest(rt: Runtime, maildir: Path | None, imap: bool, follow: bool) -> None:
    """Ingest new mail: record each message's outcome and enqueue planning on Redis."""
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
        imap_source = ImapSource(config, rt.store.mailboxes)
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


@click.command("metrics-server")
@click.option("--port", type=int, default=None, help="Port (default TRIAGE_METRICS_PORT).")
@click.pass_obj
def metrics_server(rt: Runtime, port: int | None) -> None:
    """Serve /metrics for the state in Redis (queue depth, runs in progress, dead letters, mailboxes)."""
    chosen = port if port is not None else metrics_port(rt.settings, "all")
    serve_metrics(chosen, rt.settings.metrics_host, build_registry(rt.store.health, QUEUES))
    click.echo(f"serving /metrics on {rt.settings.metrics_host}:{chosen}")
    while True:
        time.sleep(3600)
