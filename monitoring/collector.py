"""Metrics read from Redis at scrape time: queue depth, runs in progress, dead letters, mailbox health,
Redis's own memory.

A gauge kept in worker memory would be wrong as soon as a process dies or a second worker starts;
Redis holds the truth, so the exporter asks it on every scrape.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class StateSource(Protocol):
    """The part of the run store the collector reads (its health room)."""

    def queue_depth(self, queue: str) -> int:
        """Messages waiting in a Celery queue."""
        ...

    def state_counts(self) -> dict[str, Any]:
        """Runs in progress, dead letters, quarantine size and mailbox health."""
        ...


class RedisStateCollector(Collector):
    """Exports the pipeline's shared state from Redis on every scrape."""

    def __init__(self, source: StateSource, queues: tuple[str, ...]) -> None:
        self.source = source
        self.queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read Redis now; a Redis error yields no samples rather than stale ones."""
        try:
            depths = [(queue, self.source.queue_depth(queue)) for queue in self.queues]
            state = self.source.state_counts()
        except redis.RedisError:
            return
        depth = GaugeMetricFamily(
            "triage_queue_depth", "Messages waiting in a queue (Redis or RabbitMQ).", labels=["queue"]
        )
        for queue, n in depths:
            depth.add_metric([queue], n)
        yield depth
        yield GaugeMetricFamily(
            "triage_runs_in_progress", "Runs created and not yet final.", value=state["active"]
        )
        yield GaugeMetricFamily(
            "triage_dead_letters", "Runs in the dead-letter list.", value=state["dead_letters"]
        )
        yield GaugeMetricFamily(
            "triage_quarantined_messages", "Messages in quarantine.", value=state["quarantined"]
        )
        last = GaugeMetricFamily(
            "triage_mailbox_last_success_timestamp_seconds",
            "When a mailbox was last polled successfully.",
            labels=["mailbox"],
        )
        failures = GaugeMetricFamily(
            "triage_mailbox_consecutive_failures",
            "Failed polls of a mailbox since its last success.",
            labels=["mailbox"],
        )
        for mailbox, health in sorted(state["mailboxes"].items()):
            if "last_success" in health:
                last.add_metric([mailbox], health["last_success"])
            failures.add_metric([mailbox], health.get("failures", 0))
        yield last
        yield failures
        yield GaugeMetricFamily(
            "triage_review_queue", "Runs held for a person, not decided yet.", value=state["review_queue"]
        )
        yield GaugeMetricFamily(
            "triage_review_oldest_age_seconds",
            "How long the oldest held run has waited (0: none).",
            value=state["review_oldest_age_s"],
        )
        yield from _fleet(state)
        yield from _llm(state)
        memory = state["redis_memory"]
        yield GaugeMetricFamily("triage_redis_memory_used_bytes", "Memory Redis uses.", value=memory["used"])
        yield GaugeMetricFamily(
            "triage_redis_memory_max_bytes", "Redis's maxmemory (0: no limit).", value=memory["max"]
        )

    def describe(self) -> Iterable[GaugeMetricFamily]:
        """Nothing up front: the families are produced at collect time."""
        return []


def _llm(state: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """The fleet's LLM spend of today (Redis's UTC day) and whether the model is paused."""
    llm = state["llm"]
    yield GaugeMetricFamily(
        "triage_llm_spent_today_tokens",
        "LLM tokens the fleet spent today (UTC), booked before each call and settled after it.",
        value=llm["spent_tokens"],
    )
    yield GaugeMetricFamily(
        "triage_llm_spent_today_usd",
        "What the fleet spent on the LLM today (UTC), in USD.",
        value=llm["spent_usd"],
    )
    yield GaugeMetricFamily(
        "triage_llm_paused",
        "1 while the model is paused for the fleet (triage llm pause).",
        value=llm["paused"],
    )


def _fleet(state: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """The fair share (runs waiting by mailbox, runs in flight) and the workers alive with their slots."""
    waiting = GaugeMetricFamily(
        "triage_fair_waiting", "Runs waiting for their fair turn to be planned.", labels=["mailbox"]
    )
    for mailbox, n in sorted(state["fair_waiting"].items()):
        waiting.add_metric([mailbox], n)
    yield waiting
    yield GaugeMetricFamily(
        "triage_runs_in_flight",
        "Runs that took their turn and are not over yet.",
        value=state["runs_in_flight"],
    )
    alive = GaugeMetricFamily(
        "triage_workers_alive",
        "Workers whose heartbeat is current, by whether they execute steps.",
        labels=["kind"],
    )
    slots = GaugeMetricFamily(
        "triage_worker_slots", "Tasks the workers alive run at once, all together.", labels=["kind"]
    )
    for kind, counts in sorted(state["workers"].items()):
        alive.add_metric([kind], counts["workers"])
        slots.add_metric([kind], counts["slots"])
    yield alive
    yield slots
