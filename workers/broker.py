"""How Celery reaches its broker: the run store's Redis (one server, or the master its Sentinels name),
or RabbitMQ (TRIAGE_BROKER_URL) with quorum queues, Redis staying the state store.

RabbitMQ's quorum queues are replicated (Raft) and survive a node's loss; what they cannot do is what a
classic queue did for Celery's countdown (a retry's backoff, a step that waits its turn): a worker would
hold such a message unacknowledged until its time, and quorum queues have no global QoS to let it. So the
queues hang off a topic exchange, and Celery's native delayed delivery sends a countdown through
RabbitMQ's own delay levels (28 TTL queues that dead-letter into each other); no worker holds it. Kombu
takes whole seconds and refuses a countdown under one (make chaos BROKER=rabbitmq lost a run to it), so
every countdown goes through `countdown` below. Priorities are not used (quorum queues have
none). Publishing waits for the broker's confirm, so a sent task is in a replicated queue."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from kombu import Connection, Exchange, Queue

from agent.keys import Keys
from agent.store.health import StoreHealth
from workers.redis_connection import broker_options, broker_url
from workers.settings import Settings

EXCHANGE = "triage"  # the topic exchange every queue is bound to (native delayed delivery needs topic)
DEPTH_FRESH_S = 1.0  # how long a queue depth read from RabbitMQ is reused


def countdown(settings: Settings, seconds: float) -> float:
    """A countdown the broker can keep: none for no wait; on RabbitMQ whole seconds, at least one (its
    delayed delivery refuses less); on Redis as given (an ETA of any precision)."""
    if seconds <= 0:
        return 0.0
    return float(max(1, math.ceil(seconds))) if settings.broker_url is not None else seconds


def broker_config(settings: Settings, queues: tuple[str, ...], default_queue: str) -> dict[str, Any]:
    """The Celery settings of the broker: Redis (or its Sentinels), or RabbitMQ with quorum queues."""
    if settings.broker_url is None:
        return {
            "broker_url": broker_url(settings),
            "broker_transport_options": {
                "visibility_timeout": settings.visibility_timeout_s,
                "global_keyprefix": Keys(settings.namespace).kombu_prefix,
                **broker_options(settings),
            },
        }
    exchange = Exchange(EXCHANGE, type="topic", durable=True)
    quorum = {"x-queue-type": "quorum"}
    return {
        "broker_url": settings.broker_url.get_secret_value(),
        "broker_transport_options": {"confirm_publish": True},
        "task_queues": [
            Queue(q, exchange, routing_key=q, queue_arguments=quorum, durable=True) for q in queues
        ],
        "task_default_exchange": EXCHANGE,
        "task_default_exchange_type": "topic",
        "task_default_routing_key": default_queue,
        "task_default_queue_type": "quorum",
        "task_create_missing_queues": False,
        "worker_detect_quorum_queues": True,
        "broker_native_delayed_delivery_queue_type": "quorum",
    }


class QueueDepths:
    """How many messages wait in a queue of the broker: LLEN of kombu's list in Redis, or a passive
    declare of the quorum queue in RabbitMQ (read at most once a second per queue); with the store's own
    counts, what the metrics collector reads (monitoring/collector.py: StateSource)."""

    def __init__(self, settings: Settings, health: StoreHealth) -> None:
        self.health = health
        self.url = settings.broker_url.get_secret_value() if settings.broker_url else None
        self._connection: Connection | None = None
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def state_counts(self) -> dict[str, Any]:
        """The run store's counts (agent/store/health.py)."""
        return self.health.state_counts()

    def queue_depth(self, queue: str) -> int:
        """Messages waiting in `queue` (not those a worker holds)."""
        if self.url is None:
            return self.health.queue_depth(queue)
        with self._lock:
            at, count = self._seen.get(queue, (0.0, 0))
            if time.monotonic() - at < DEPTH_FRESH_S:
                return count
            count = self._declared(self.url, queue)
            self._seen[queue] = (time.monotonic(), count)
            return count

    def _declared(self, url: str, queue: str) -> int:
        try:
            if self._connection is None:
                self._connection = Connection(url, connect_timeout=5)
            channel: Any = self._connection.default_channel
            _, count, _ = channel.queue_declare(queue, passive=True)
            return int(count)
        except Exception:
            if self._connection is not None:
                self._connection.release()
            self._connection = None
            raise
