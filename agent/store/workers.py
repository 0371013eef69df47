"""The workers alive in the fleet: each worker says every few seconds how many tasks it runs at once and
whether it executes steps; what it has not said again for a while is gone (a killed host says nothing).
Times are the Redis server's (hosts' clocks differ; Redis's is one)."""

from __future__ import annotations

import json
from typing import Any

import redis

from agent.keys import Keys
from agent.store.codec import as_text

# KEYS: workers (zset name -> ms its beat lasts until), their info (hash), since when they are kept
# (string, ms). ARGV: name, ms it lasts, info (JSON; empty: the worker is gone). Forgets the workers whose
# beat ran out; returns since when the record is kept (0: no worker) and those alive with their info.
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
    redis.call('SET', KEYS[3], now, 'NX')
  end
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, name in ipairs(expired) do redis.call('HDEL', KEYS[2], name) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
local since = tonumber(redis.call('GET', KEYS[3]) or '0')
return {since > 0 and now - since or -1, redis.call('HGETALL', KEYS[2])}
"""


class Workers:
    """Heartbeats of the fleet's workers (agent/store/workers.py)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys
        self._beat = client.register_script(BEAT)

    def _call(self, name: str, ttl_ms: int, info: str) -> tuple[float, dict[str, dict[str, Any]]]:
        """(seconds the record has been kept, -1 with no worker; the workers alive and what they said)."""
        keys = [self.keys.workers, self.keys.worker_info, self.keys.workers_since]
        kept_ms, found = self._beat(keys=keys, args=[name, ttl_ms, info])
        pairs = [as_text(v) for v in found]
        alive = {pairs[i]: json.loads(pairs[i + 1]) for i in range(0, len(pairs), 2)}
        return int(kept_ms) / 1000, alive

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
        return self._call("", 0, "")[1]

    def processes(self, whole_after_s: float) -> set[str] | None:
        """Every process (host:pid) of the workers alive; None when nothing is known for sure: no worker
        beats, or the record is younger than `whole_after_s` (after Redis lost it, the live workers beat
        again one by one: one not back yet is not dead)."""
        kept_s, alive = self._call("", 0, "")
        if not alive or kept_s < whole_after_s:
            return None
        return {p for w in alive.values() for p in w.get("processes", [])}

    def execute_slots(self) -> int:
        """How many steps the workers alive can run at once, all together."""
        return sum(int(w["slots"]) for w in self.alive().values() if w["executes"])
