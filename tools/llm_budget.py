"""LLM budgets, as a tool sees them: whom a call is charged to (a ticket of a mailbox), and the budget a
call reserves its worst case against before it is sent and settles with what it cost after
(agent/store/llm_budget.py keeps the books in Redis, for the whole fleet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

REFUSED = (
    "LLM budget"  # how a refusal begins, wherever it is told (a run's notes: agent/autonomy.py reads it)
)


@dataclass(frozen=True)
class Charge:
    """Whose budget a call spends: a ticket's, its mailbox's, and the fleet's of the day."""

    ticket_id: str
    mailbox: str = "default"


@dataclass(frozen=True)
class Reserved:
    """What a call set aside (tokens, USD) and the day (Redis's, in days since 1970) it was booked on."""

    tokens: int
    usd: float
    day: int


class Budget(Protocol):
    """The books every worker reserves against (agent/store/llm_budget.py implements it)."""

    def reserve(self, charge: Charge, tokens: int, usd: float) -> Reserved | str:
        """Set aside a call's worst case, or say which budget it would overspend."""
        ...

    def settle(self, charge: Charge, reserved: Reserved, tokens: int, usd: float) -> None:
        """Replace what was set aside with what the call cost."""
        ...


def worst_case_tokens(messages: list[dict[str, str]], max_output_tokens: int) -> int:
    """The most a call can cost in tokens: its prompt at 2 characters a token (no tokenizer counts
    fewer for text, JSON or code) and its longest answer."""
    return sum(len(m.get("content") or "") for m in messages) // 2 + 16 * len(messages) + max_output_tokens
