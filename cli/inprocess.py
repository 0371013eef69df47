"""A real Celery worker running inside this process (thread pool): for the demo, tests and tools."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker
from celery.worker.worker import WorkController

import tasks.execute
import tasks.ingest
import tasks.plan
import tasks.sweep
import tasks.sync  # noqa: F401  (the tasks a worker runs: imported, so registered)
from workers.app import QUEUES, app


@contextmanager
def running_worker(concurrency: int = 8, queues: tuple[str, ...] = QUEUES) -> Iterator[WorkController]:
    """Start a worker consuming `queues` with a thread pool; stop it (warm shutdown) on exit."""
    with start_worker(
        app,
        pool="threads",
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
        queues=list(queues),
        shutdown_timeout=30,
    ) as worker:
        yield worker
