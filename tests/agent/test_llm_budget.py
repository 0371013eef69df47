"""The fleet's LLM books in Redis: a call is refused when its worst case would overspend any budget of
its charge (the ticket's, its mailbox's today, the fleet's today in tokens or USD), is settled with what
it cost, and racing callers never book more than a budget holds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from agent.store import RunStore
from agent.store.llm_budget import Caps, LLMBudget
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import llm_config
from tools.llm import LLMUnavailable
from tools.llm_budget import Charge, Reserved
from tools.llm_client import OpenAICompatibleLLM

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


def test_a_call_the_budget_cannot_take_goes_to_the_cheaper_model_and_says_so(store: RunStore) -> None:
    # A day of $0.05: the big model's worst case ($15 per 1M tokens answered) does not fit, the mini's does.
    budget = books(store, Caps(daily_usd=0.05))
    prices = {"big": (5.0, 15.0), "mini": (0.15, 0.6)}
    with running_openai(FakeOpenAI(default=lambda request: '{"ok": true}')) as server:
        config = llm_config(
            base_url=server.url, api_key="k", model="big", prices=prices, max_output_tokens=4000
        )
        fell_back = OpenAICompatibleLLM(config.model_copy(update={"fallback_model": "mini"}), budget=budget)
        reply = fell_back.complete([{"role": "user", "content": "x" * 2000}], {"type": "object"}, "x", TICKET)
        with pytest.raises(LLMUnavailable, match="and for the cheaper none"):
            only_big = config.model_copy(update={"fallback_model": "none"})
            OpenAICompatibleLLM(only_big, budget=books(store, Caps(daily_usd=0.000001))).complete(
                [{"role": "user", "content": "x"}], {"type": "object"}, "x", Charge("T9")
            )
        asked = [r["model"] for r in server.requests]
    assert asked == ["mini"]
    assert reply.note == (
        "LLM budget: the fleet's 0.05 USD of today (TRIAGE_LLM_DAILY_USD) are spent: answered by the cheaper model mini"
    )
