"""What operators do to runs: replay, discard, erase, and the audit trail that remembers it.

A mixin of RunStore, kept apart because these are rare, deliberate actions, not the pipeline's path.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from agent.run import StepState, now
from inbox.parse import address_in

if TYPE_CHECKING:
    import redis

    from agent.keys import Keys
    from agent.run import Delivery, Run


def as_text(value: Any) -> str:
    """Redis answers bytes; the store speaks str."""
    return value.decode() if isinstance(value, bytes) else str(value)


class StoreReads(Protocol):
    """What the operator actions need of the run store they are mixed into."""

    redis: redis.Redis
    keys: Keys
    retention_s: int

    def get_run(self, run_id: str) -> Run | None:
        """One run."""

    def raw(self, delivery_id: str) -> bytes | None:
        """A message's raw bytes."""

    def deliveries(self, limit: int = 1000) -> list[Delivery]:
        """Recent deliveries."""

    def record_audit(self, action: str, run_id: str | None, reason: str, **details: Any) -> None:
        """Keep an operator action in the audit trail."""


class OperatorActions:
    """Replay, discard, purge and audit, on top of the run store's keys and reads (StoreReads)."""

    def record_audit(self: StoreReads, action: str, run_id: str | None, reason: str, **details: Any) -> None:
        """Keep an operator action in the audit trail."""
        entry = {"at": now().isoformat(), "action": action, "run": run_id, "reason": reason, **details}
        self.redis.lpush(self.keys.audit, json.dumps(entry))

    def audit_trail(self: StoreReads, limit: int = 100) -> list[dict[str, Any]]:
        """The newest operator actions."""
        return [json.loads(v) for v in self.redis.lrange(self.keys.audit, 0, limit - 1)]

    def reopen(self: StoreReads, run_id: str) -> list[str]:
        """Take a dead-lettered run back: unfinished steps start afresh; returns their ids."""
        run = self.get_run(run_id)
        if run is None or run.status != "dead_letter":
            raise ValueError(f"run {run_id} is not in the dead-letter list")
        key = self.keys.run(run_id)
        again = [sid for sid, state in run.steps.items() if state.status != "done"]
        pipe = self.redis.pipeline()
        pipe.hdel(key, "finished_at", "error", *(f"dispatched:{sid}" for sid in again))
        for sid in again:
            pipe.hset(key, f"step:{sid}", StepState().model_dump_json())
        pipe.hset(key, "status", "running" if run.plan is not None else "planning")
        pipe.zrem(self.keys.dead_letters, run_id)
        pipe.zadd(self.keys.active_runs, {run_id: time.time()})
        pipe.expire(key, self.retention_s)
        pipe.execute()
        return again

    def discard(self: StoreReads, run_id: str) -> None:
        """Close a dead-lettered run for good (it expires with the retention)."""
        run = self.get_run(run_id)
        if run is None or run.status != "dead_letter":
            raise ValueError(f"run {run_id} is not in the dead-letter list")
        pipe = self.redis.pipeline()
        pipe.hset(self.keys.run(run_id), "status", "discarded")
        pipe.zrem(self.keys.dead_letters, run_id)
        pipe.expire(self.keys.run(run_id), self.retention_s)
        pipe.execute()

    def purge_sender(self: StoreReads, address: str) -> Erasure:
        """Erase one sender's stored mail and run data (an erasure request); say what went, and where in
        Jira the sender's text still is (the issues and comments their runs made)."""
        address = address.strip().lower()
        removed = {"runs": 0, "deliveries": 0, "raw_messages": 0, "ledger_entries": 0}
        runs = {
            r.id: r for r in (self.get_run(i) for i in _all_run_ids(self)) if r and r.ticket.sender == address
        }
        in_jira = sorted(
            {ref for run in runs.values() for ref in _jira_refs(run)}, key=lambda r: (r[0], r[1] or "")
        )
        for run in runs.values():
            keys = [self.keys.run(run.id), self.keys.message(run.ticket.message_id)]
            keys += list(self.redis.scan_iter(match=f"{self.keys.ledger(run.id)}*"))
            keys += [self.keys.ledger(f"jira-issue:{run.id}"), self.keys.ledger(f"llm-analysis:{run.id}")]
            removed["ledger_entries"] += int(self.redis.delete(*keys[2:])) if keys[2:] else 0
            self.redis.delete(*keys[:2])
            for index in (self.keys.runs, self.keys.active_runs, self.keys.dead_letters):
                self.redis.zrem(index, run.id)
            removed["runs"] += 1
        for delivery in self.deliveries(limit=10_000_000):
            head = self.redis.getrange(self.keys.raw(delivery.delivery_id), 0, _HEADERS_READ - 1)
            if delivery.run_id in runs or (isinstance(head, bytes) and head and address_in(head) == address):
                removed["raw_messages"] += int(self.redis.delete(self.keys.raw(delivery.delivery_id)))
                self.redis.delete(self.keys.delivery(delivery.delivery_id))
                self.redis.zrem(self.keys.deliveries, delivery.delivery_id)
                self.redis.zrem(self.keys.quarantine, delivery.delivery_id)
                removed["deliveries"] += 1
        # Raw mail whose delivery record is gone (expired, or never written: a poller died) is found by
        # its own bytes.
        for key in self.redis.scan_iter(match=self.keys.raw("*"), count=500):
            head = self.redis.getrange(key, 0, _HEADERS_READ - 1)  # the sender is in the headers
            if isinstance(head, bytes) and address_in(head) == address:
                removed["raw_messages"] += int(self.redis.delete(key))
                delivery_id = as_text(key).rpartition(":")[2]
                self.redis.zrem(self.keys.quarantine, delivery_id)
        return Erasure(removed, set(runs), in_jira)


_HEADERS_READ = 64 * 1024  # of stored raw mail, what erasure reads to find the sender (not megabytes)


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, the runs it removed, and the Jira places holding the sender's text:
    (issue key, None) for an issue the system created, (issue key, comment id) for a comment it added."""

    removed: dict[str, int]
    run_ids: set[str]
    in_jira: list[tuple[str, str | None]]


def _jira_refs(run: Run) -> list[tuple[str, str | None]]:
    """The real (not dry-run) Jira issues and comments a run's steps wrote."""
    refs: list[tuple[str, str | None]] = []
    for state in run.steps.values():
        result = state.result or {}
        if result.get("issue_key") and result.get("dry_run") is False:
            refs.append((str(result["issue_key"]), result.get("comment_id")))
    return refs


def _all_run_ids(store: StoreReads) -> set[str]:
    ids: set[str] = set()
    for index in (store.keys.runs, store.keys.dead_letters, store.keys.active_runs):
        ids.update(as_text(i) for i in store.redis.zrange(index, 0, -1))
    return ids
