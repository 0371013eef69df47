"""The /metrics endpoint: multiprocess-aware, with the Redis state collector beside the counters."""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

from monitoring.collector import RedisStateCollector, StateSource
from monitoring.multiproc import MULTIPROC_ENV


def build_registry(source: StateSource | None, queues: tuple[str, ...]) -> CollectorRegistry:
    """The registry to serve: every process's counters (multiprocess mode) or this one's, plus Redis state."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    if source is not None:
        registry.register(RedisStateCollector(source, queues))
    return registry


def serve_metrics(port: int, host: str, registry: CollectorRegistry) -> None:
    """Serve /metrics on a background thread."""
    start_http_server(port, addr=host, registry=registry)


def mark_process_dead(pid: int) -> None:
    """Forget a dead worker process's live gauges (its counters stay, as they must)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
