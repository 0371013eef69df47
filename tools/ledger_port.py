"""The ledger as a tool sees it: durable memory of side effects, keyed by idempotency key, with the locks
and counters a side effect needs (agent/store/ledger.py keeps it in Redis)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol


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
