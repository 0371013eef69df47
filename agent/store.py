"""RunStore: deliveries, runs, step states, dead letters and the side-effect ledger, in Redis.

Every write that decides something (first delivery of a Message-ID, the plan of a run, who dispatches
a step, who finishes a run, who performs a side effect) is a single atomic Redis command, so
concurrent or redelivered tasks agree on one winner.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import redis
from redis.exceptions import LockError

from agent.keys import Keys
from agent.operations import OperatorActions, as_text
from agent.planner import Planned
from agent.run import Delivery, Run, RunStatus, StepState, now
from inbox.imap import Cursor
from inbox.ticket import Ticket
from tools.errors import NotReadyYet
from tools.llm import Usage

_ADVANCE_CURSOR = """
local current = redis.call('HMGET', KEYS[1], 'uidvalidity', 'last_uid')
if current[1] == ARGV[1] and tonumber(current[2] or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'uidvalidity', ARGV[1], 'last_uid', ARGV[2])
return 1
"""

_CREATE_RUN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


class RunStore(OperatorActions):
    """The system's memory in Redis, under one namespace; also the tools' side-effect Ledger."""

    def __init__(self, client: redis.Redis, namespace: str, retention_s: int) -> None:
        self.redis = client
        self.keys = Keys(namespace)
        self.retention_s = retention_s
        self._create_run = client.register_script(_CREATE_RUN)
        self._advance_cursor = client.register_script(_ADVANCE_CURSOR)

    # -- raw messages and deliveries -------------------------------------------------------------

    def save_raw(self, delivery_id: str, raw: bytes) -> None:
        """Keep a message's raw bytes (first write wins: a re-poll never replaces them)."""
        self.redis.set(self.keys.raw(delivery_id), raw, nx=True, ex=self.retention_s)

    def raw(self, delivery_id: str) -> bytes | None:
        """A message's raw bytes, or None once expired."""
        value = self.redis.get(self.keys.raw(delivery_id))
        return value if isinstance(value, bytes) else None

    def count_ingest_attempt(self, delivery_id: str) -> int:
        """Count one more attempt to ingest a message; the count tells a poison message."""
        key = self.keys.ingest_attempts(delivery_id)
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.retention_s)
        return int(pipe.execute()[0])

    def delivery(self, delivery_id: str) -> Delivery | None:
        """The recorded outcome of one inbound message."""
        value = self.redis.get(self.keys.delivery(delivery_id))
        return Delivery.model_validate_json(value) if value else None

    def record_delivery(self, delivery: Delivery) -> Delivery:
        """Record a message's outcome unless one is recorded; return the one that stands."""
        stamp = delivery.at.timestamp()
        if self.redis.set(self.keys.delivery(delivery.delivery_id), delivery.model_dump_json(), nx=True,
                          ex=self.retention_s):  # fmt: skip
            pipe = self.redis.pipeline()
            pipe.zadd(self.keys.deliveries, {delivery.delivery_id: stamp})
            pipe.zremrangebyscore(self.keys.deliveries, 0, stamp - self.retention_s)
            if delivery.outcome == "quarantined":
                # Kept for a human to look at for the retention, like the delivery record and the raw
                # copy (a stranger's junk must not fill Redis for good), then forgotten together.
                pipe.zadd(self.keys.quarantine, {delivery.delivery_id: stamp})
                pipe.zremrangebyscore(self.keys.quarantine, 0, stamp - self.retention_s)
            pipe.execute()
            return delivery
        stored = self.delivery(delivery.delivery_id)
        assert stored is not None
        return stored

    def deliveries(self, limit: int = 1000) -> list[Delivery]:
        """The most recent deliveries, oldest first."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.deliveries, -limit, -1)]
        values = self.redis.mget([self.keys.delivery(i) for i in ids]) if ids else []
        return [Delivery.model_validate_json(v) for v in values if v]

    def quarantined(self) -> list[Delivery]:
        """Deliveries that could not become tickets, newest last."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.quarantine, 0, -1)]
        return [d for d in (self.delivery(i) for i in ids) if d is not None]

    def claim_message_id(self, message_id: str, delivery_id: str) -> str:
        """Claim a Message-ID for a delivery; return the delivery id that owns it (ours if first)."""
        key = self.keys.message(message_id)
        if self.redis.set(key, delivery_id, nx=True, ex=self.retention_s):
            return delivery_id
        owner = self.redis.get(key)
        return as_text(owner) if owner else delivery_id

    def message_owner(self, message_id: str) -> str | None:
        """The delivery id that first brought this Message-ID, if any."""
        owner = self.redis.get(self.keys.message(message_id))
        return as_text(owner) if owner else None

    # -- runs -------------------------------------------------------------------------------------

    def create_run(self, run_id: str, ticket: Ticket) -> bool:
        """Create a run for a ticket; False when it exists already (a redelivered ingest)."""
        created = now()
        fields = {"ticket": ticket.model_dump_json(), "status": "planning", "created_at": created.isoformat()}
        args: list[str | int] = [self.retention_s, *(x for kv in fields.items() for x in kv)]
        if not self._create_run(keys=[self.keys.run(run_id)], args=args):
            return False
        pipe = self.redis.pipeline()
        pipe.zadd(self.keys.runs, {run_id: created.timestamp()})
        pipe.zadd(self.keys.active_runs, {run_id: created.timestamp()})
        pipe.zremrangebyscore(self.keys.runs, 0, created.timestamp() - self.retention_s)
        pipe.execute()
        return True

    def get_run(self, run_id: str) -> Run | None:
        """Load a whole run, or None if it does not exist (or has expired)."""
        raw = {as_text(k): as_text(v) for k, v in self.redis.hgetall(self.keys.run(run_id)).items()}
        if "ticket" not in raw:
            return None
        steps = {k[5:]: StepState.model_validate_json(v) for k, v in raw.items() if k.startswith("step:")}
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
                "usage": {k[6:]: float(v) for k, v in raw.items() if k.startswith("usage:")},
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
        initial: dict[str | bytes, str] = {
            f"step:{s.id}": StepState().model_dump_json() for s in planned.plan.steps
        }
        fields: dict[str | bytes, str] = {
            "planner": planned.planner,
            "planner_notes": json.dumps(planned.notes),
            "status": "running",
            **initial,
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
                pipe.hincrby(key, f"usage:{name}", value)
        for name in ("latency_s", "cost_usd"):
            if value := getattr(usage, name):
                pipe.hincrbyfloat(key, f"usage:{name}", value)
        pipe.execute()

    def claim_dispatch(self, run_id: str, step_id: str) -> bool:
        """True for exactly one caller per step: the one that enqueues it."""
        return bool(self.redis.hsetnx(self.keys.run(run_id), f"dispatched:{step_id}", time.time()))

    def dispatched_at(self, run_id: str, step_id: str) -> float | None:
        """When a step was handed to the queue (unix seconds), or None if it was not."""
        value = self.redis.hget(self.keys.run(run_id), f"dispatched:{step_id}")
        return float(value) if value is not None else None

    def active_run_ids(self) -> list[str]:
        """Runs not yet final (the sweeper's work list)."""
        return [as_text(i) for i in self.redis.zrange(self.keys.active_runs, 0, -1)]

    def forget_active(self, run_id: str) -> None:
        """Drop a run from the active set (it expired or is final)."""
        self.redis.zrem(self.keys.active_runs, run_id)

    def release_dispatch(self, run_id: str, step_id: str) -> None:
        """Undo a dispatch claim whose enqueue failed, so the step can be dispatched again."""
        self.redis.hdel(self.keys.run(run_id), f"dispatched:{step_id}")

    def save_step(self, run_id: str, step_id: str, state: StepState) -> None:
        """Write one step's state (each step's field is written only by that step's task)."""
        self.redis.hset(self.keys.run(run_id), f"step:{step_id}", state.model_dump_json())

    def finish_step(
        self, run_id: str, step_id: str, state: StepState, step_ids: list[str]
    ) -> dict[str, StepState]:
        """Write one step's final state and read every step's state back, in one atomic round trip: the
        steps finishing at the same time each see the others, so one of them dispatches what follows."""
        key = self.keys.run(run_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, f"step:{step_id}", state.model_dump_json())
        pipe.hmget(key, [f"step:{s}" for s in step_ids])
        _, values = pipe.execute()
        return {s: StepState.model_validate_json(v) for s, v in zip(step_ids, values, strict=True) if v}

    def finish(self, run_id: str, status: RunStatus, error: str | None = None) -> bool:
        """Close a run as done or dead_letter; True for the one caller that closed it."""
        key = self.keys.run(run_id)
        finished = now()
        if not self.redis.hsetnx(key, "finished_at", finished.isoformat()):
            return False
        mapping: dict[str | bytes, str] = {"status": status}
        if error:
            mapping["error"] = error
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
        pipe.zrem(self.keys.active_runs, run_id)
        if status == "dead_letter":
            pipe.zadd(self.keys.dead_letters, {run_id: finished.timestamp()})
            pipe.persist(key)  # an operator decides what happens to it
        pipe.execute()
        return True

    def recent_runs(self, limit: int = 20) -> list[Run]:
        """The newest runs, newest first."""
        ids = [as_text(i) for i in self.redis.zrevrange(self.keys.runs, 0, limit - 1)]
        return [r for r in (self.get_run(i) for i in ids) if r is not None]

    def dead_letters(self) -> list[Run]:
        """Runs in the dead-letter list, oldest first."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.dead_letters, 0, -1)]
        return [r for r in (self.get_run(i) for i in ids) if r is not None]

    def record_poll(self, mailbox: str, ok: bool) -> None:
        """Remember a mailbox poll's outcome: the last success time, or one more consecutive failure."""
        if ok:
            self.redis.hset(
                self.keys.mailbox_health,
                mapping={f"{mailbox}:last_success": time.time(), f"{mailbox}:failures": 0},
            )
        else:
            self.redis.hincrby(self.keys.mailbox_health, f"{mailbox}:failures", 1)

    def imap_cursor(self, mailbox: str) -> Cursor:
        """How far an IMAP folder has been read."""
        values = self.redis.hmget(self.keys.imap_cursor(mailbox), ["uidvalidity", "last_uid"])
        uidvalidity, last_uid = (int(v) if v is not None else None for v in values)
        return Cursor(uidvalidity=uidvalidity, last_uid=last_uid or 0)

    def save_imap_cursor(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        """Move a folder's cursor forward (a new UIDVALIDITY may start it again from 0)."""
        self._advance_cursor(keys=[self.keys.imap_cursor(mailbox)], args=[uidvalidity, last_uid])

    def eviction_risk(self) -> str | None:
        """Why this Redis could drop keys (tickets, queued steps) under memory pressure, or None."""
        memory = self.redis.info("memory")
        policy, limit = memory.get("maxmemory_policy", "noeviction"), int(memory.get("maxmemory", 0))
        if limit and policy != "noeviction":
            return (f"Redis evicts keys when full (maxmemory {limit} bytes, maxmemory-policy {policy}): "
                    "tickets and queued steps could vanish. Set maxmemory-policy noeviction.")  # fmt: skip
        return None

    def queue_depth(self, queue_key: str) -> int:
        """Messages waiting in a broker queue."""
        return int(self.redis.llen(queue_key))

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

    # -- Ledger (tools.base.Ledger) ----------------------------------------------------------------

    def get(self, key: str) -> dict[str, Any] | None:
        """The side-effect record stored under an idempotency key."""
        value = self.redis.get(self.keys.ledger(key))
        return dict(json.loads(value)) if value else None

    def claim(self, key: str, record: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Store a side-effect record unless one exists; return (stored_by_us, the stored record)."""
        if self.redis.set(self.keys.ledger(key), json.dumps(record), nx=True, ex=self.retention_s):
            return True, record
        stored = self.get(key)
        return False, stored if stored is not None else record

    def note(self, key: str, record: dict[str, Any]) -> None:
        """Store a record under an idempotency key, replacing any."""
        self.redis.set(self.keys.ledger(key), json.dumps(record), ex=self.retention_s)

    def next_number(self, name: str) -> int:
        """A fresh number from a named counter."""
        return int(self.redis.incr(self.keys.counter(name)))

    @contextmanager
    def exclusive(self, key: str, ttl_s: float, wait_s: float = 5) -> Iterator[None]:
        """Hold the lock of an idempotency key; a holder that dies releases it after ttl_s."""
        lock = self.redis.lock(self.keys.ledger_lock(key), timeout=ttl_s, blocking_timeout=wait_s)
        if not lock.acquire():
            # Not a failure of this attempt: the holder finishes, or (if it died) its lock expires.
            raise NotReadyYet(f"another attempt of {key} is in progress")
        try:
            yield
        finally:
            with suppress(LockError):  # expired meanwhile: nothing left to release
                lock.release()

    # -- housekeeping -----------------------------------------------------------------------------

    def erase_namespace(self) -> int:
        """Delete every key of this namespace (demo and test clean-up); return how many."""
        deleted = 0
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=f"{self.keys.prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(self.redis.delete(*batch))
                batch = []
        if batch:
            deleted += int(self.redis.delete(*batch))
        return deleted
