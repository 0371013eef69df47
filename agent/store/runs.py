"""Runs: one Redis hash per run (its ticket, plan, each step's state) and the indexes of runs.

The only owner of the run hash's layout. Every write that decides something (the plan of a run, who
dispatches a step, who finishes a run) is a single atomic Redis command, so concurrent or redelivered
tasks agree on one winner.
"""

from __future__ import annotations

import json
import time

import redis

from agent.keys import Keys
from agent.planner import Planned
from agent.run import Run, RunStatus, StepState, now
from agent.store.codec import as_text
from inbox.ticket import Ticket
from tools.llm import Usage

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""
# Close a run once: the caller whose HSETNX of finished_at wins sets the status and moves the indexes.
_FINISH = """
if redis.call('HSETNX', KEYS[1], 'finished_at', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end
redis.call('ZREM', KEYS[2], ARGV[5])
if ARGV[2] == 'dead_letter' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
  redis.call('PERSIST', KEYS[1])
end
return 1
"""
_STEP = "step:"
_USAGE = "usage:"
_DISPATCHED = "dispatched:"


class Runs:
    """Create, read and advance runs; the dead-letter list; the operator's reopen and discard."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s
        self._create = client.register_script(_CREATE)
        self._finish = client.register_script(_FINISH)

    def create(self, run_id: str, ticket: Ticket) -> bool:
        """Create a run for a ticket; False when it exists already (a redelivered ingest)."""
        created = now()
        fields = {"ticket": ticket.model_dump_json(), "status": "planning", "created_at": created.isoformat()}
        args: list[str | int] = [self.retention_s, *(x for kv in fields.items() for x in kv)]
        if not self._create(keys=[self.keys.run(run_id)], args=args):
            return False
        pipe = self.redis.pipeline()
        pipe.zadd(self.keys.runs, {run_id: created.timestamp()})
        pipe.zadd(self.keys.active_runs, {run_id: created.timestamp()})
        pipe.zremrangebyscore(self.keys.runs, 0, created.timestamp() - self.retention_s)
        pipe.execute()
        return True

    def get(self, run_id: str) -> Run | None:
        """Load a whole run, or None if it does not exist (or has expired)."""
        raw = {as_text(k): as_text(v) for k, v in self.redis.hgetall(self.keys.run(run_id)).items()}
        if "ticket" not in raw:
            return None
        steps = {
            k[len(_STEP) :]: StepState.model_validate_json(v) for k, v in raw.items() if k.startswith(_STEP)
        }
        return Run.model_validate(
            {
                "id": run_id,
                "ticket": json.loads(raw["ticket"]),
                "status": raw["status"],
                "created_at": raw["created_at"],
                "finished_at": raw.get("finished_at"),
                "planner": raw.get("planner"),
                "planner_notes": json.loads(raw.get("planner_notes", "[]")),
                "plan": json.loads(raw["plan"]) if "plan" in raw else None,
                "steps": steps,
                "error": raw.get("error"),
                "prompt_version": raw.get("prompt_version"),
                "usage": {k[len(_USAGE) :]: float(v) for k, v in raw.items() if k.startswith(_USAGE)},
            }
        )

    def set_status(self, run_id: str, status: RunStatus) -> None:
        """Move a run to a non-final status."""
        self.redis.hset(self.keys.run(run_id), "status", status)

    def save_plan(self, run_id: str, planned: Planned) -> bool:
        """Store the run's plan (first plan wins) with its planner and notes; True if ours was stored."""
        key = self.keys.run(run_id)
        if not self.redis.hsetnx(key, "plan", planned.plan.model_dump_json()):
            return False
        fields: dict[str | bytes, str] = {
            "planner": planned.planner,
            "planner_notes": json.dumps(planned.notes),
            "status": "running",
            **{f"{_STEP}{s.id}": StepState().model_dump_json() for s in planned.plan.steps},
        }
        if planned.prompt_version:
            fields["prompt_version"] = planned.prompt_version
        self.redis.hset(key, mapping=fields)  # type: ignore[arg-type]
        return True

    def record_usage(self, run_id: str, usage: Usage) -> None:
        """Add LLM usage to a run's totals (planner and tools add concurrently; each field atomically)."""
        key = self.keys.run(run_id)
        pipe = self.redis.pipeline()
        for name in ("calls", "prompt_tokens", "completion_tokens", "repairs", "fallbacks"):
            if value := getattr(usage, name):
                pipe.hincrby(key, f"{_USAGE}{name}", value)
        for name in ("latency_s", "cost_usd"):
            if value := getattr(usage, name):
                pipe.hincrbyfloat(key, f"{_USAGE}{name}", value)
        pipe.execute()

    def claim_dispatch(self, run_id: str, step_ids: list[str]) -> list[str]:
        """The steps of these whose dispatch this caller claimed (exactly one caller per step enqueues
        it); one round trip for all of them."""
        pipe = self.redis.pipeline(transaction=False)
        stamp = time.time()
        for step_id in step_ids:
            pipe.hsetnx(self.keys.run(run_id), f"{_DISPATCHED}{step_id}", stamp)
        return [step_id for step_id, won in zip(step_ids, pipe.execute(), strict=True) if won]

    def dispatched_at(self, run_id: str, step_id: str) -> float | None:
        """When a step was handed to the queue (unix seconds), or None if it was not."""
        value = self.redis.hget(self.keys.run(run_id), f"{_DISPATCHED}{step_id}")
        return float(value) if value is not None else None

    def release_dispatch(self, run_id: str, step_id: str) -> None:
        """Undo a dispatch claim whose enqueue failed, so the step can be dispatched again."""
        self.redis.hdel(self.keys.run(run_id), f"{_DISPATCHED}{step_id}")

    def active_ids(self) -> list[str]:
        """Runs not yet final (the sweeper's work list)."""
        return [as_text(i) for i in self.redis.zrange(self.keys.active_runs, 0, -1)]

    def forget_active(self, run_id: str) -> None:
        """Drop a run from the active set (it expired or is final)."""
        self.redis.zrem(self.keys.active_runs, run_id)

    def save_step(self, run_id: str, step_id: str, state: StepState) -> None:
        """Write one step's state (each step's field is written only by that step's task)."""
        self.redis.hset(self.keys.run(run_id), f"{_STEP}{step_id}", state.model_dump_json())

    def finish_step(
        self, run_id: str, step_id: str, state: StepState, step_ids: list[str]
    ) -> dict[str, StepState]:
        """Write one step's final state and read every step's state back, in one atomic round trip: the
        steps finishing at the same time each see the others, so one of them dispatches what follows."""
        key = self.keys.run(run_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, f"{_STEP}{step_id}", state.model_dump_json())
        pipe.hmget(key, [f"{_STEP}{s}" for s in step_ids])
        _, values = pipe.execute()
        return {s: StepState.model_validate_json(v) for s, v in zip(step_ids, values, strict=True) if v}

    def finish(self, run_id: str, status: RunStatus, error: str | None = None) -> bool:
        """Close a run as done or dead_letter (a dead letter is kept until an operator acts); True for the
        one caller that closed it. One atomic round trip."""
        finished = now()
        keys = [self.keys.run(run_id), self.keys.active_runs, self.keys.dead_letters]
        args: list[str | float] = [finished.isoformat(), status, error or "", finished.timestamp(), run_id]
        return bool(self._finish(keys=keys, args=args))

    def recent(self, limit: int = 20) -> list[Run]:
        """The newest runs, newest first."""
        ids = [as_text(i) for i in self.redis.zrevrange(self.keys.runs, 0, limit - 1)]
        return [r for r in (self.get(i) for i in ids) if r is not None]

    def dead_letters(self) -> list[Run]:
        """Runs in the dead-letter list, oldest first."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.dead_letters, 0, -1)]
        return [r for r in (self.get(i) for i in ids) if r is not None]

    def reopen(self, run_id: str) -> list[str]:
        """Take a dead-lettered run back: unfinished steps start afresh; returns their ids."""
        run = self.get(run_id)
        if run is None or run.status != "dead_letter":
            raise ValueError(f"run {run_id} is not in the dead-letter list")
        key = self.keys.run(run_id)
        again = [sid for sid, state in run.steps.items() if state.status != "done"]
        pipe = self.redis.pipeline()
        pipe.hdel(key, "finished_at", "error", *(f"{_DISPATCHED}{sid}" for sid in again))
        for sid in again:
            pipe.hset(key, f"{_STEP}{sid}", StepState().model_dump_json())
        pipe.hset(key, "status", "running" if run.plan is not None else "planning")
        pipe.zrem(self.keys.dead_letters, run_id)
        pipe.zadd(self.keys.active_runs, {run_id: time.time()})
        pipe.expire(key, self.retention_s)
        pipe.execute()
        return again

    def discard(self, run_id: str) -> None:
        """Close a dead-lettered run for good (it expires with the retention)."""
        run = self.get(run_id)
        if run is None or run.status != "dead_letter":
            raise ValueError(f"run {run_id} is not in the dead-letter list")
        pipe = self.redis.pipeline()
        pipe.hset(self.keys.run(run_id), "status", "discarded")
        pipe.zrem(self.keys.dead_letters, run_id)
        pipe.expire(self.keys.run(run_id), self.retention_s)
        pipe.execute()

    def all_ids(self) -> set[str]:
        """Every run id the indexes know (recent, in progress, dead-lettered)."""
        ids: set[str] = set()
        for index in (self.keys.runs, self.keys.dead_letters, self.keys.active_runs):
            ids.update(as_text(i) for i in self.redis.zrange(index, 0, -1))
        return ids

    def erase(self, run_id: str) -> None:
        """Delete a run and its place in every index (an erasure request)."""
        pipe = self.redis.pipeline()
        pipe.delete(self.keys.run(run_id))
        for index in (self.keys.runs, self.keys.active_runs, self.keys.dead_letters):
            pipe.zrem(index, run_id)
        pipe.execute()
