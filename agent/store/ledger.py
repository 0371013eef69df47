"""The side-effect ledger (tools.ledger_port.Ledger) in Redis: what each side effect did, under its key.

A record is claimed with one atomic command (SET NX), so of two attempts at the same side effect one
does it and the other finds its record. Key names come from tools/ledger_keys.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import redis
from redis.exceptions import LockError

from agent.keys import Keys
from tools import ledger_keys
from tools.errors import NotReadyYet


class SideEffectLedger:
    """Records, counters and locks of the tools' side effects."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s

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

    def count_within(self, key: str, window_s: int) -> int:
        """Count one more event under key in a window that starts with the first; the count so far."""
        pipe = self.redis.pipeline()
        pipe.set(self.keys.ledger(key), 0, nx=True, ex=window_s)
        pipe.incr(self.keys.ledger(key))
        return int(pipe.execute()[1])

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

    def erase_ticket(self, ticket_id: str) -> int:
        """Delete every record of a ticket (an erasure request); return how many there were."""
        named, step_prefix = ledger_keys.of_ticket(ticket_id)
        keys = [self.keys.ledger(k) for k in named]
        keys += list(self.redis.scan_iter(match=f"{self.keys.ledger(step_prefix)}*", count=500))
        return int(self.redis.delete(*keys))
