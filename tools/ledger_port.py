"""The ledger as a tool sees it: durable memory of side effects, keyed by idempotency key, with the locks
and counters a side effect needs (agent/store/ledger.py keeps it in Redis)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from tools.errors import PermanentToolError


class Ledger(Protocol):
    """Durable memory of side effects, keyed by idempotency key (the run store implements it)."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under key, or None."""
        ...

    def claim(self, key: str, record: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Store record under key unless one is there; return (stored_by_us, the record that is there)."""
        ...

    def note(self, key: str, record: dict[str, Any]) -> None:
        """Store record under key, replacing what is there (for facts that change, like the time of the
        latest attempt at a side effect)."""
        ...

    def next_number(self, name: str) -> int:
        """A fresh number from the named counter (for local dry-run keys)."""
        ...

    def count_within(self, key: str, window_s: int) -> int:
        """Count one more event under key; how many there were in the window that began with the first
        (for rate limits: the count is forgotten when the window ends)."""
        ...

    def exclusive(self, key: str, ttl_s: float, wait_s: float = 5) -> AbstractContextManager[None]:
        """Hold a lock on key while checking-then-acting on an external system (expires after ttl_s).

        Raises NotReadyYet (retried without using up attempts) when another holder keeps it past wait_s.
        """
        ...


class NoLedger:
    """The ledger of work that must keep no side effects: a tool run isolated in a helper process, a
    replay's offline tools. Reads find nothing; a side effect, a count or a lock is refused."""

    def get(self, key: str) -> dict[str, Any] | None:
        """Nothing was ever recorded."""
        return None

    def claim(self, key: str, record: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Refused: a side effect."""
        raise PermanentToolError("this work may not record side effects")

    def note(self, key: str, record: dict[str, Any]) -> None:
        """Refused: a side effect."""
        raise PermanentToolError("this work may not record side effects")

    def next_number(self, name: str) -> int:
        """Refused: a count."""
        raise PermanentToolError("this work may not count")

    def count_within(self, key: str, window_s: int) -> int:
        """Refused: a count."""
        raise PermanentToolError("this work may not count")

    def exclusive(self, key: str, ttl_s: float, wait_s: float = 5) -> Any:
        """Refused: a lock."""
        raise PermanentToolError("this work may not lock")


class MemoryLedger:
    """A ledger in this process's memory, gone with it: for work whose records must reach nothing
    shared (a replay). Locks are not shared either: one caller at a time is all such work has."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under key, or None."""
        return self.records.get(key)

    def claim(self, key: str, record: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Store record under key unless one is there."""
        stored = self.records.setdefault(key, record)
        return stored is record, stored

    def note(self, key: str, record: dict[str, Any]) -> None:
        """Store record under key."""
        self.records[key] = record

    def next_number(self, name: str) -> int:
        """The next number of the named counter."""
        self.counts[name] = self.counts.get(name, 0) + 1
        return self.counts[name]

    def count_within(self, key: str, window_s: int) -> int:
        """Count one more event under key (the window is this ledger's life)."""
        return self.next_number(key)

    def exclusive(self, key: str, ttl_s: float, wait_s: float = 5) -> AbstractContextManager[None]:
        """No one else to exclude."""
        return nullcontext()
