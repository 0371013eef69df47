"""What the store tells about itself: the state the collector exports, queue depths, eviction risk."""

from __future__ import annotations

from typing import Any

import redis

from agent.keys import Keys
from agent.store.codec import as_text


class StoreHealth:
    """Counts read at scrape time (runs in progress, dead letters, quarantine, mailboxes, memory)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys

    def eviction_risk(self) -> str | None:
        """Why this Redis could drop keys (tickets, queued steps) under memory pressure, or None."""
        memory = self.redis.info("memory")
        policy, limit = memory.get("maxmemory_policy", "noeviction"), int(memory.get("maxmemory", 0))
        if limit and policy != "noeviction":
            return (f"Redis evicts keys when full (maxmemory {limit} bytes, maxmemory-policy {policy}): "
                    "tickets and queued steps could vanish. Set maxmemory-policy noeviction.")  # fmt: skip
        return None

    def queue_depth(self, queue: str) -> int:
        """Messages waiting in a Celery queue."""
        return int(self.redis.llen(self.keys.queue(queue)))

    def state_counts(self) -> dict[str, Any]:
        """What the collector exports: runs in progress, dead letters, quarantine, mailbox health, and
        Redis's memory against its limit (0: none)."""
        pipe = self.redis.pipeline()
        pipe.zcard(self.keys.active_runs)
        pipe.zcard(self.keys.dead_letters)
        pipe.zcard(self.keys.quarantine)
        pipe.hgetall(self.keys.mailbox_health)
        pipe.info("memory")
        active, dead, quarantined, health, memory = pipe.execute()
        mailboxes: dict[str, dict[str, float]] = {}
        for field, value in health.items():
            name, _, kind = as_text(field).rpartition(":")
            mailboxes.setdefault(name, {})[kind] = float(value)
        return {
            "active": int(active),
            "dead_letters": int(dead),
            "quarantined": int(quarantined),
            "mailboxes": mailboxes,
            "redis_memory": {"used": int(memory["used_memory"]), "max": int(memory.get("maxmemory", 0))},
        }
