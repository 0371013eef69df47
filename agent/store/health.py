"""What the store tells about itself: the state the collector exports, queue depths, eviction risk."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from agent.keys import Keys
from agent.store.codec import as_text
from agent.store.fair_share import by_mailbox

HEADROOM = 0.1  # of maxmemory, what stored mail may not take: room for the runs and the queues


class StoreHealth:
    """Counts read at scrape time (runs in progress, dead letters, quarantine, mailboxes, memory)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys

    def eviction_risk(self) -> str | None:
        """Why this Redis could drop keys (tickets, queued steps) under memory pressure, or None."""
        memory = self.redis.info("memory")
        policy, limit = memory.get("maxmemory_policy", "noeviction"), int(memory.get("maxmemory", 0))
        if limit and policy != "noeviction":
            return (
                f"Redis evicts keys when full (maxmemory {limit} bytes, maxmemory-policy {policy}): "
                "tickets and queued steps could vanish. Set maxmemory-policy noeviction."
            )
        return None

    def room_for(self, size: int) -> str | None:
        """Why `size` more bytes should not go to this Redis now, or None when they fit.

        Checked before the bytes are sent: Redis reads a whole command into its query buffer (which
        grows by doubling, so up to twice the command) before it can refuse it, and that buffer counts as
        used memory for a while; a big refused write can push a Redis over its maxmemory, where it refuses
        every transaction, Celery's acknowledgements too, and the workers stop. So the bytes must fit
        twice, and a tenth of maxmemory is kept free for the pipeline's own keys.
        """
        memory = self.redis.info("memory")
        limit, used = int(memory.get("maxmemory", 0)), int(memory["used_memory"])
        if not limit or used + 2 * size <= limit * (1 - HEADROOM):
            return None
        return (
            f"Redis has no room for its {size} bytes ({used} of {limit} bytes used, {HEADROOM:.0%} kept free)"
        )

    def queue_depth(self, queue: str) -> int:
        """Messages waiting in a Celery queue."""
        return int(self.redis.llen(self.keys.queue(queue)))

    def state_counts(self) -> dict[str, Any]:
        """What the collector exports: runs in progress, dead letters, quarantine, mailbox health, Redis's
        memory against its limit (0: none), the review queue (its size and oldest hold's age), the fair
        share (runs waiting, runs in flight), the workers alive, and the LLM's spend today and switch."""
        pipe = self.redis.pipeline()
        pipe.hmget(self.keys.llm_day(int(time.time()) // 86400), ["tokens", "usd"])
        pipe.exists(self.keys.llm_paused)
        pipe.zcard(self.keys.active_runs)
        pipe.zcard(self.keys.dead_letters)
        pipe.zcard(self.keys.quarantine)
        pipe.hgetall(self.keys.mailbox_health)
        pipe.info("memory")
        pipe.zcard(self.keys.review_queue)
        pipe.zrange(self.keys.review_queue, 0, 0, withscores=True)
        pipe.hgetall(self.keys.fair_counts)
        pipe.zcard(self.keys.fair_running)
        pipe.zrangebyscore(self.keys.workers, time.time() * 1000, "+inf")
        pipe.hgetall(self.keys.worker_info)
        spent, paused, active, dead, quarantined, health, memory, waiting, oldest, *fleet = pipe.execute()
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
            "review_queue": int(waiting),
            "review_oldest_age_s": time.time() - float(oldest[0][1]) if oldest else 0.0,
            **_fleet(*fleet),
            "llm": {
                "spent_tokens": int(spent[0] or 0),
                "spent_usd": int(spent[1] or 0) / 1_000_000,  # booked in millionths (llm_budget.py)
                "paused": bool(paused),
            },
        }


def _fleet(
    counts: dict[bytes, bytes], in_flight: int, alive: list[bytes], info: dict[bytes, bytes]
) -> dict[str, Any]:
    """The fair share's runs waiting by mailbox, the runs in flight, and the workers alive by whether they
    execute steps, with their slots."""
    waiting = by_mailbox(counts)
    workers = {"execute": {"workers": 0, "slots": 0}, "other": {"workers": 0, "slots": 0}}
    for name in alive:
        said = json.loads(info.get(name, b"{}"))
        kind = workers["execute" if said.get("executes") else "other"]
        kind["workers"] += 1
        kind["slots"] += int(said.get("slots", 0))
    return {"fair_waiting": waiting, "runs_in_flight": int(in_flight), "workers": workers}
