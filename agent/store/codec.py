"""What every room of the store shares: Redis answers bytes, the store speaks str."""

from __future__ import annotations

from typing import Any


def as_text(value: Any) -> str:
    """A Redis answer as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
