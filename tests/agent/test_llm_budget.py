"""The fleet's LLM books in Redis: a call is refused when its worst case would overspend any budget of
its charge (the ticket's, its mailbox's today, the fleet's today in tokens or USD), is settled with what
it cost, and racing callers never book more than a budget holds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from agent.store import RunStore
from agent.store.llm_budget import Caps, LLMBudget
from tools.llm_budget import Charge, Reserved

TICKET = Charge("T1", "billing")


def books(store: RunStore, caps: Caps) -> LLMBudget:
    return LLMBudget(store.redis, store.keys, caps, retention_s=3600)


def test_each_budget_refuses_the_call_that_would_overspend_it_and_names_its_setting(store: RunStore) -> None:
    budget = books(store, Caps(ticket_tokens=5000, mailbox_daily_tokens={"billing": 8000}, daily_usd=1.0))

    assert isinstance(budget.reserve(TICKET, 4000, 0.1), Reserved)
    refused = budget.reserve(TICKET, 1500, 0.1)
    assert refused == "LLM budget: the ticket's 5,000 tokens (TRIAGE_LLM_TICKET_TOKENS) are spent"
    assert isinstance(budget.reserve(Charge("T2", "billing"), 4000, 0.1), Reserved)
    assert "mailbox billing's tokens" in str(budget.reserve(Charge("T3", "billing"), 1000, 0.1))
    assert isinstance(budget.reserve(Charge("T3", "support"), 1000, 0.1), Reserved)  # support has no cap
    assert "USD of today (TRIAGE_LLM_DAILY_USD)" in str(budget.reserve(Charge("T4", "support"), 10, 0.9))


def test_settling_books_what_the_call_cost_instead_of_its_worst_case(store: RunStore) -> None:
    budget = books(store, Caps(ticket_tokens=5000, daily_tokens=100_000))
    reserved = budget.reserve(TICKET, 4000, 0.02)
    assert isinstance(reserved, Reserved) and budget.spent_today() == (4000, 0.02)

    budget.settle(TICKET, reserved, 1200, 0.005)

    assert budget.spent_today() == (1200, 0.005)
    assert isinstance(budget.reserve(TICKET, 3800, 0.0), Reserved)  # the ticket has 3,800 left, not 1,000


def test_two_hundred_racing_calls_book_exactly_what_the_day_holds(store: RunStore) -> None:
    budget = books(store, Caps(daily_tokens=50_000))

    with ThreadPoolExecutor(16) as pool:
        booked = list(pool.map(lambda n: budget.reserve(Charge(f"T{n}"), 1000, 0.0), range(200)))

    assert sum(isinstance(b, Reserved) for b in booked) == 50
    assert budget.spent_today() == (50_000, 0.0)
