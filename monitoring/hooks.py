"""Celery signal hooks that time every task (how long it waited in its queue and how long it ran) and
flush the process's spans when it shuts down warm.

A hook that fails logs and never fails the task it observes.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_process_shutdown,
    worker_shutdown,
)

from monitoring import metrics, tracing

log = logging.getLogger("triage")

STAGES = {
    "triage.poll_maildir": "ingest",
    "triage.poll_imap": "ingest",
    "triage.plan": "plan",
    "triage.execute_step": "execute",
}
PUBLISHED_AT = "triage_published_at"  # message header: unix time the task was sent
_started: dict[str, float] = {}


def _eta_seconds(eta: Any) -> float:
    if isinstance(eta, datetime):
        return eta.timestamp()
    if isinstance(eta, str):
        try:
            return datetime.fromisoformat(eta).timestamp()
        except ValueError:
            return 0.0
    return 0.0


@before_task_publish.connect
def stamp_publish_time(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Stamp each message with the time it was sent, for the queue-wait histogram."""
    try:
        if headers is not None:
            headers[PUBLISHED_AT] = time.time()
    except Exception:
        log.exception("metrics hook before_task_publish failed")


@task_prerun.connect
def record_queue_wait(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Queue wait: from publish (or from a retry's due time) to now."""
    try:
        if task is None or task.name not in STAGES or task_id is None:
            return
        _started[task_id] = time.monotonic()
        published = getattr(task.request, PUBLISHED_AT, None)
        if published is None:
            return
        due = max(float(published), _eta_seconds(task.request.eta))
        queue = (task.request.delivery_info or {}).get("routing_key") or STAGES[task.name]
        metrics.QUEUE_WAIT.labels(queue).observe(max(0.0, time.time() - due))
    except Exception:
        log.exception("metrics hook task_prerun failed")


@task_postrun.connect
def record_stage_duration(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Stage duration: how long the task ran."""
    try:
        started = _started.pop(task_id or "", None)
        if task is not None and started is not None:
            metrics.STAGE_DURATION.labels(STAGES[task.name]).observe(time.monotonic() - started)
    except Exception:
        log.exception("metrics hook task_postrun failed")


@worker_process_shutdown.connect
@worker_shutdown.connect
def flush_spans(**_: Any) -> None:
    """A warm shutdown (a pool process's, or the worker's own) exports the spans still held in memory."""
    try:
        tracing.flush()
    except Exception:
        log.exception("tracing hook worker_shutdown failed")
