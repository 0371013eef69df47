"""Three worker processes race for one day's LLM budget: what the model server was asked for never adds
up to more than the budget, the books in Redis agree, and every run the budget could not take was
planned by the rules and says why. Nothing is dropped."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from agent.store.llm_budget import LLMBudget
from tests.integration.test_llm_pipeline import answer_like_a_model
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import email_bytes, wait_for
from tests.worker_processes import deliver, outcome_of, worker_fleet
from workers.runtime import budget_caps
from workers.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DAY = 20_000  # tokens the fleet may spend today: about 40 % of what 30 mails ask for (52,000)
MAILS = 30


def tokens_served(server: FakeOpenAI) -> int:
    """What the server billed, as it counts (its prompt and answer at 4 characters a token)."""
    total = 0
    for request in server.requests:
        total += sum(len(m.get("content") or "") for m in request["messages"]) // 4
        total += len(answer_like_a_model(request)) // 4
    return total


def test_racing_workers_never_spend_more_than_the_days_budget(redis_url: str, tmp_path: Path) -> None:
    with running_openai(FakeOpenAI(default=answer_like_a_model)) as server:
        settings = {
            "llm_model": "gpt-4o-mini",
            "llm_base_url": server.url,
            "llm_api_key": "test",
            "llm_daily_tokens": str(DAY),
            "observe_rounds": "0",
        }
        with worker_fleet(redis_url, tmp_path, ("all", "plan", "execute"), **settings) as fleet:
            keys = [f"1800000000.m{n:02d}.mx" for n in range(MAILS)]
            for n, key in enumerate(keys):
                raw = email_bytes(subject=f"Export {n} fails", message_id=f"<{uuid.uuid4().hex}@x>")
                deliver(fleet.box, key, raw)
            outcomes = [wait_for(lambda k=k: outcome_of(fleet.store, k), 240, k) for k in keys]  # type: ignore[misc]
            runs = [fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=100)]
            caps = budget_caps(load_settings(llm_daily_tokens=DAY))
            booked, _ = LLMBudget(fleet.store.redis, fleet.store.keys, caps, 3600).spent_today()
        served = tokens_served(server)

    assert outcomes == ["done"] * MAILS
    assert served <= DAY and booked <= DAY  # a call is sent only once its worst case is booked
    planners = [r.planner for r in runs if r is not None]
    assert "llm" in planners and "fallback" in planners
    refused = [r for r in runs if r is not None and r.planner == "fallback"]
    assert all("LLM budget: the fleet's 20,000 tokens of today" in r.planner_notes[-1] for r in refused)
