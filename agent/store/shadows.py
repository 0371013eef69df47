"""Shadow cases: what a candidate model (TRIAGE_SHADOW_MODEL) did beside production on live runs, each
recorded once per run and kept for the retention; `triage replay --shadow` reports them."""

from __future__ import annotations

import time

import redis

from agent.keys import Keys
from agent.replay import ReplayCase


class Shadows:
    """The shadow cases of one namespace, newest last."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s

    def record(self, case: ReplayCase) -> None:
        """Keep a run's shadow case (a second one of the same run replaces it), and forget old ones."""
        at = time.time()
        pipe = self.redis.pipeline()
        pipe.zremrangebyscore(self.keys.shadow_cases, 0, at - self.retention_s)
        pipe.zadd(self.keys.shadow_cases, {case.model_dump_json(): at})
        pipe.expire(self.keys.shadow_cases, self.retention_s)
        pipe.execute()

    def between(self, oldest: float, newest: float, limit: int) -> list[ReplayCase]:
        """The cases recorded between two times (unix seconds), oldest first, at most `limit`, one per run
        (its latest)."""
        found: list[bytes] = self.redis.zrangebyscore(self.keys.shadow_cases, oldest, newest)  # type: ignore[assignment]
        cases = {c.run_id: c for c in (ReplayCase.model_validate_json(raw) for raw in found)}
        return list(cases.values())[-limit:]
