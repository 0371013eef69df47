"""The review queue: runs held for a person (agent/autonomy.py), and what became of each, decided once.

A hold is a key of its own and a score in the queue (when it was held); the decision is another key,
set with SET NX, so of two people approving at the same moment one decides and the other is told.
"""

from __future__ import annotations

import redis

from agent.autonomy import Decision, Hold
from agent.keys import Keys
from agent.store.codec import as_text


class Reviews:
    """Hold runs, list what waits, and decide on each once."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s

    def hold(self, hold: Hold) -> bool:
        """Put a run in the review queue (the first hold of a run wins); True when this call held it. One
        transaction: a hold is never stored without its place in the queue."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.keys.hold(hold.run_id), hold.model_dump_json(), nx=True, ex=self.retention_s)
        pipe.zadd(self.keys.review_queue, {hold.run_id: hold.held_at.timestamp()}, nx=True)
        return bool(pipe.execute()[0])

    def held(self, run_id: str) -> Hold | None:
        """The run's hold, if it was ever held."""
        raw = self.redis.get(self.keys.hold(run_id))
        return Hold.model_validate_json(raw) if raw is not None else None

    def waiting(self, limit: int = 1000) -> list[Hold]:
        """The holds nobody decided on yet, oldest first."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.review_queue, 0, limit - 1)]
        return [h for h in map(self.held, ids) if h is not None]

    def decide(self, run_id: str, decision: Decision) -> bool:
        """Record what became of a hold; True for the one caller whose decision counts. One transaction:
        a decided run never stays in the queue."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.keys.decision(run_id), decision.model_dump_json(), nx=True, ex=self.retention_s)
        pipe.zrem(self.keys.review_queue, run_id)
        return bool(pipe.execute()[0])

    def decision(self, run_id: str) -> Decision | None:
        """What became of the run's hold, if anything yet."""
        raw = self.redis.get(self.keys.decision(run_id))
        return Decision.model_validate_json(raw) if raw is not None else None
