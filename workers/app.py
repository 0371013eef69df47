"""The Celery app (`celery -A workers.app worker`): broker, queues, routing, reliability and beat.

Tasks carry ids only; state lives in the run store. Reliability settings: a task is acknowledged
after it ran (acks_late), returned to the queue if its worker dies (reject_on_worker_lost), and one
message is reserved per process at a time (prefetch 1), so a crash loses nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Iterable
from typing import Any, Literal

from celery import Celery
from celery.signals import (
    beat_init,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from celery.signals import setup_logging as celery_setup_logging

from monitoring.exporter import build_registry, mark_process_dead, serve_metrics
from monitoring.multiproc import MULTIPROC_ENV
from tools.sandbox import SANDBOX
from workers import checks, runtime
from workers.broker import broker_config
from workers.heartbeat import keep_beating, stop_beating
from workers.logs import setup_logging
from workers.mailboxes import mailbox_names
from workers.memory_choice import memory_enabled
from workers.settings import Settings

QUEUES = ("ingest", "plan", "execute")
ROLES: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest",),
    "plan": ("plan",),
    "execute": ("execute",),
    "all": QUEUES,
}
TASK_MODULES = [
    "tasks.ingest",
    "tasks.plan",
    "tasks.observe",
    "tasks.execute",
    "tasks.sweep",
    "tasks.sync",
    "tasks.shadow",
]
# Each role's /metrics port when TRIAGE_METRICS_PORT is unset: one worker of each role fits on one host.
METRICS_PORTS = {"ingest": 9808, "all": 9808, "plan": 9809, "execute": 9810}

log = logging.getLogger("triage")
app = Celery("triage")


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings (checked when the runtime was built)."""
    # Beat runs in the ingest worker: it polls every configured mailbox and, in every deployment, sweeps.
    beat: dict[str, Any] = {"sweep": {"task": "triage.sweep", "schedule": settings.sweep_interval_s}}
    if settings.maildir is not None:
        beat["poll-maildir"] = {"task": "triage.poll_maildir", "schedule": settings.poll_interval_s}
    if settings.imap_host is not None:
        beat["poll-imap"] = {"task": "triage.poll_imap", "schedule": settings.poll_interval_s}
    for name in mailbox_names(settings.mailboxes_path):
        beat[f"poll-mailbox-{name}"] = {
            "task": "triage.poll_mailbox",
            "args": (name,),
            "schedule": settings.poll_interval_s,
        }
    if memory_enabled(settings) and settings.jira_url is not None:
        beat["read-back"] = {
            "task": "triage.read_back_corrections",
            "schedule": settings.correction_read_back_s,
        }
    return {
        **broker_config(settings, QUEUES, "plan"),
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # On a cold stop, a short soft phase lets running tasks end and returns unacknowledged messages.
        "worker_soft_shutdown_timeout": 10.0,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_routes": {
            "triage.poll_maildir": {"queue": "ingest"},
            "triage.poll_imap": {"queue": "ingest"},
            "triage.poll_mailbox": {"queue": "ingest"},
            "triage.sweep": {"queue": "plan"},
            "triage.read_back_corrections": {"queue": "plan"},
            "triage.plan": {"queue": "plan"},
            "triage.observe": {"queue": "plan"},
            "triage.shadow": {"queue": "plan"},
            "triage.execute_step": {"queue": "execute"},
        },
        "task_default_queue": "plan",
        "include": TASK_MODULES,
        "beat_schedule": beat,
        # Interval schedules need no persistent state: beat keeps them in memory. A schedule file shared
        # by two beats of one namespace on one host (an ingest and an "all" worker) crashed one of them.
        "beat_scheduler": "celery.beat:Scheduler",
        "worker_hijack_root_logger": False,
        # Task events feed Flower and celery-exporter; off by default (one Redis publish per transition).
        "worker_send_task_events": settings.task_events,
        "task_send_sent_event": settings.task_events,
        "worker_concurrency": settings.worker_concurrency,
    }


def configure(settings: Settings, servers: bool = True) -> runtime.Runtime:
    """Point the app and the task runtime at these settings (the CLI does, before anything else);
    `servers`: list the MCP servers' tools (runtime.build_runtime)."""
    built = runtime.install(settings, servers)
    app.conf.update(celery_config(settings))
    return built


def settle_memory(settings: Settings, memory: Literal["on", "off"]) -> Settings:
    """The settings with memory as a starting worker decided it (workers/memory_choice.py): the runtime
    is built again and beat's schedule follows (the corrections read-back needs memory). The broker's
    configuration is left as it is: updating it again under Sentinel left beat on a dead master."""
    settled = settings.model_copy(update={"memory": memory})
    runtime.install(settled)
    app.conf.beat_schedule = celery_config(settled)["beat_schedule"]
    return settled


def _configuration() -> dict[str, Any]:
    """The configuration of a process that did not call configure (`celery -A workers.app worker`):
    read from the environment the first time Celery needs it, never at import."""
    return celery_config(runtime.runtime().settings)


app.add_defaults(_configuration)


@celery_setup_logging.connect
def _use_our_logging(loglevel: str | None = None, **_: Any) -> None:
    """Workers log with our format (text or JSON) instead of Celery's default."""
    setup_logging(runtime.runtime().settings.log_format, loglevel or "INFO")


def role_of(queues: Iterable[str]) -> str:
    """The role whose queues these are ("all" for any other mix)."""
    consumed = set(queues)
    return next((role for role, mine in ROLES.items() if set(mine) == consumed), "all")


def metrics_port(settings: Settings, role: str) -> int:
    """The /metrics port of a worker of this role: TRIAGE_METRICS_PORT, else the role's own (0: none)."""
    return settings.metrics_port if settings.metrics_port is not None else METRICS_PORTS[role]


def _consumed_queues(sender: Any) -> list[str]:
    """The queues the starting worker consumes (every queue when none was named)."""
    return list(getattr(sender, "app", app).amqp.queues.consume_from or QUEUES)


def consumes(queue: str) -> bool:
    """True when this worker takes tasks from `queue` (a process that is no worker counts as all)."""
    return queue in _consumed_queues(None)


@worker_init.connect
def _serve_metrics(sender: Any = None, **_: Any) -> None:
    """Each worker serves /metrics (all its processes' counters plus the shared state in Redis)."""
    rt = runtime.runtime()
    role = role_of(_consumed_queues(sender))
    port = metrics_port(rt.settings, role)
    if not port:
        return
    if not os.environ.get(MULTIPROC_ENV):
        log.warning("PROMETHEUS_MULTIPROC_DIR is not set: a prefork worker's /metrics shows only its parent")
    try:
        serve_metrics(port, rt.settings.metrics_host, build_registry(rt.depths, QUEUES))
    except OSError as exc:  # printed: logging is not set up yet at worker_init
        where = f"{rt.settings.metrics_host}:{port}"
        why = f"{exc} (another worker owns it? set TRIAGE_METRICS_PORT, or 0 for none)"
        print(f"metrics: cannot serve /metrics on {where}: {why}", file=sys.stderr)
        return
    print(f"metrics: serving /metrics on {rt.settings.metrics_host}:{port} (role {role})", file=sys.stderr)


@beat_init.connect
def _say_what_ingest_polls(**_: Any) -> None:
    """Beat (in the ingest worker) names the mail sources it polls, and says so when there are none."""
    rt = runtime.runtime()
    settings = rt.settings
    sources = [f"Maildir {settings.maildir}"] if settings.maildir is not None else []
    if (imap := settings.imap_config()) is not None:
        sources.append(f"IMAP {imap.user}@{imap.host}:{imap.port}/{imap.folder}")
    sources += [f"mailbox {d.name} ({d.spec.where()})" for d in rt.desks.values() if d.spec is not None]
    if sources:
        print(f"ingest: polling {' and '.join(sources)} every {settings.poll_interval_s:g}s", file=sys.stderr)
    else:
        print(
            "ingest: no mail source is configured (set TRIAGE_MAILDIR, TRIAGE_IMAP_HOST or "
            "TRIAGE_MAILBOXES_PATH): nothing is polled; beat still runs the sweeper",
            file=sys.stderr,
        )


@worker_init.connect
def _prestart_tool_process(sender: Any = None, **_: Any) -> None:
    """An executor (thread or solo pool) starts its tool helper processes now, off any step's clock."""
    pool = getattr(sender, "pool_cls", "")
    pool_name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if "execute" in _consumed_queues(sender) and "prefork" not in pool_name and runtime.runtime().llm is None:
        SANDBOX.prestart(SANDBOX.size)


@worker_process_init.connect
def _prestart_tool_process_in_child(**_: Any) -> None:
    """Each prefork pool process of an executor starts its own first tool helper (not the parent's)."""
    if "execute" in _consumed_queues(None) and runtime.runtime().llm is None:
        SANDBOX.prestart()


@worker_process_shutdown.connect
def _forget_dead_process(pid: int | None = None, **_: Any) -> None:
    mark_process_dead(pid or os.getpid())


_beating: list[tuple[str, threading.Event]] = []


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    """The worker says it is alive, and how many steps it runs at once, for as long as it lives."""
    controller = getattr(sender, "controller", None)
    name = str(getattr(sender, "hostname", "") or f"{socket.gethostname()}:{os.getpid()}")
    slots = int(getattr(controller, "concurrency", 1) or 1)
    executes = "execute" in _consumed_queues(sender)
    _beating.append((name, keep_beating(runtime.runtime().store.workers, name, slots, executes)))


@worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    for name, beating in _beating:
        stop_beating(runtime.runtime().store.workers, name, beating)


@worker_init.connect
def _check_before_taking_tasks(sender: Any = None, **_: Any) -> None:
    """Stop a worker (exit 2) whose Redis may evict keys, whose Jira settings the server rejects, or
    whose categorizer cannot be trained; print the warnings and go on. Printed: logging is not set up
    yet at worker_init, and SystemExit passes through Celery's signal dispatch and stops the worker."""
    rt = runtime.runtime()
    problems = checks.redis_problems(rt.store.health) + checks.jira_problems(rt.tool_config)
    if "execute" in _consumed_queues(sender):
        found, trained = checks.categorizer_problems(rt.tool_config)
        problems += found
        if trained:
            print(trained, file=sys.stderr)
    for problem in problems:
        print(str(problem), file=sys.stderr)
    if any(problem.fatal for problem in problems):
        raise SystemExit(2)


import monitoring.hooks  # noqa: E402, F401  (registers the task timing hooks)
