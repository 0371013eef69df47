"""The workers alive in the fleet: each worker says every few seconds how many tasks it runs at once and
whether it executes steps; what it has not said again for a while is gone (a killed host says nothing).
Times are the Redis server's (hosts' clocks differ; Redis's is one)."""

from __future__ import annotations

import json
from typing import Any

import redis

from agent.keys import Keys
from agent.store.codec import as_text

# KEYS: workers (zset name -> ms its beat lasts until), their info (hash). ARGV: name, ms it lasts, info
# (JSON; empty: the worker is gone). Forgets the workers whose beat ran out; returns those alive, info.
BEAT = """
local now_s = redis.call('TIME')
local now = tonumber(now_s[1]) * 1000 + math.floor(tonumber(now_s[2]) / 1000)
if ARGV[1] ~= '' then
  if ARGV[3] == '' then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('HDEL', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, name in ipairs(expired) do redis.call('HDEL', KEYS[2], name) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('HGETALL', KEYS[2])
"""


class Workers:
    """Heartbeats of the fleet's workers (agent/store/workers.py)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys
        self._beat = client.register_script(BEAT)

    def _call(self, name: str, ttl_ms: int, info: str) -> dict[str, dict[str, Any]]:
        found = self._beat(keys=[self.keys.workers, self.keys.worker_info], args=[name, ttl_ms, info])
        pairs = [as_text(v) for v in found]
        return {pairs[i]: json.loads(pairs[i + 1]) for i in range(0, len(pairs), 2)}

    def beat(
        self, name: str, slots: int, executes: bool, ttl_s: int, processes: list[str] | None = None
    ) -> None:
        """Say this worker is alive for `ttl_s` more seconds, with its slots (its pool's concurrency) and
        its processes (host:pid, as a step's owner names them)."""
        info = {"slots": slots, "executes": executes, "processes": processes or []}
        self._call(name, ttl_s * 1000, json.dumps(info))

    def gone(self, name: str) -> None:
        """A worker that stops says so at once."""
        self._call(name, 0, "")

    def alive(self) -> dict[str, dict[str, Any]]:
        """Every worker alive, by name: its slots and whether it executes steps."""
        return self._call("", 0, "")

    def processes(self) -> set[str] | None:
        """Every process (host:pid) of the workers alive; None when no worker beats (nothing is known)."""
        alive = self.alive()
        return {p for w in alive.values() for p in w.get("processes", [])} if alive else None

    def execute_slots(self) -> int:
        """How many steps the workers alive can run at once, all together."""
        return sum(int(w["slots"]) for w in self.alive().values() if w["executes"])
