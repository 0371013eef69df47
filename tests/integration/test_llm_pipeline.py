"""The sample mailbox through the real pipeline in LLM mode: the real openai client, a local server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.llm_planner import LLMPlanner
from agent.plan_schema import plan_to_answer
from agent.planner import RulePlanner
from inbox.ticket import Ticket
from tests.conftest import Pipeline
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import llm_config, triage
from tools.catalog import CATALOG
from tools.llm_client import OpenAICompatibleLLM

pytestmark = pytest.mark.integration


def answer_like_a_model(request: dict[str, Any]) -> str:
    """What a good model would say: the rule plan for plans, a plausible analysis for tickets."""
    name = request["response_format"]["json_schema"]["name"]
    email = json.loads(
        re.search(r"<ticket>\n(.*)\n</ticket>", request["messages"][1]["content"], re.S).group(1)
    )
    if name == "plan":
        fields = {
            "id": "T0",
            "message_id": "m",
            "sender": "a@b.c",
            "sender_name": "",
            "body": "",
            "subject": "",
            "received_at": "2025-01-01T00:00:00Z",
            "size": 0,
            "thread_of": email.get("thread_of"),
        }
        return json.dumps(plan_to_answer(RulePlanner().make_plan(Ticket.model_validate(fields)).plan))
    return json.dumps(
        {
            "category": "technical",
            "confidence": 0.8,
            "customer_name": email["sender_name"] or None,
            "account_id": None,
            "urgency": "medium",
        }
    )


@pytest.fixture
def llm_mode(pipeline: Pipeline, swap_runtime: Any) -> Iterator[FakeOpenAI]:
    """Configure the worker's planner and tools to use an LLM served by a local fake."""
    with running_openai() as server:
        config = llm_config(
            base_url=server.url,
            api_key="test",
            model="gpt-4o-mini",
            timeout_s=5,
            max_transport_retries=1,
            prices={"gpt-4o-mini": (0.15, 0.6)},
        )
        llm = OpenAICompatibleLLM(config)
        planner = LLMPlanner(llm, CATALOG, max_steps=10, max_repairs=1)
        swap_runtime(planner=planner, llm=llm)
        yield server


def test_plans_come_from_the_model_and_usage_is_counted_per_run(
    pipeline: Pipeline, llm_mode: FakeOpenAI, tmp_path: Path
) -> None:
    llm_mode.default = answer_like_a_model
    runs = pipeline.run_variant_mailbox(tmp_path / "box")
    assert len(runs) == 11 and all(r.status == "done" for r in runs)
    assert {r.planner for r in runs} == {"llm"} and {r.prompt_version for r in runs} == {"planner-v1"}
    tickets = [r for r in runs if not r.ticket.thread_of]
    # The model's category where the classifier agrees or is unsure, else the classifier's, said so.
    sources = [r.steps["categorize"].result["source"] for r in tickets]
    assert all(s.startswith("llm") or s.endswith("(the model disagreed)") for s in sources), sources
    assert any(s.startswith("llm") for s in sources)
    assert all(r.usage.calls == 2 for r in tickets)  # one plan + one shared analysis
    assert all(r.usage.calls == 1 for r in runs if r.ticket.thread_of)
    assert all(r.usage.prompt_tokens > 0 and r.usage.cost_usd > 0 for r in runs)
    assert len(llm_mode.requests) == 2 * len(tickets) + (len(runs) - len(tickets))


def test_a_dead_model_means_rule_plans_and_offline_tools_and_every_message_still_finishes(
    pipeline: Pipeline, llm_mode: FakeOpenAI, tmp_path: Path
) -> None:
    runs = pipeline.run_variant_mailbox(tmp_path / "box")  # the fake answers 500 to everything
    assert all(r.status == "done" and r.planner == "fallback" for r in runs)
    assert all("model unavailable" in r.planner_notes[-1] for r in runs)
    assert all(r.usage.fallbacks == 1 for r in runs)
    tickets = [r for r in runs if not r.ticket.thread_of]
    assert all(r.steps["categorize"].result["source"].startswith("offline (LLM failed") for r in tickets)


def test_paused_the_model_is_asked_nothing_by_any_worker_and_each_run_says_why(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    with running_openai() as server:
        server.default = answer_like_a_model
        config = llm_config(base_url=server.url, api_key="test", model="gpt-4o-mini", timeout_s=5)
        llm = OpenAICompatibleLLM(config, off=pipeline.store.llm.why_off)
        swap_runtime(planner=LLMPlanner(llm, CATALOG, max_steps=10, max_repairs=1), llm=llm)

        paused = triage("llm", "pause", "--reason", "the provider bills twice", "--by", "ops")
        assert paused.exit_code == 0, paused.output
        assert "the provider bills twice" in triage("llm", "status").output
        during = pipeline.run_variant_mailbox(tmp_path / "paused")
        asked_while_paused = len(server.requests)
        resumed = triage("llm", "resume", "--by", "ops")
        after = pipeline.run_variant_mailbox(tmp_path / "resumed")

    assert resumed.exit_code == 0 and asked_while_paused == 0
    assert all(r.status == "done" and r.planner == "fallback" for r in during)
    assert all("the model is paused for the fleet (by ops" in r.planner_notes[-1] for r in during)
    assert {r.planner for r in after} == {"llm"}
    trail = [e["action"] for e in pipeline.store.operations.audit_trail(50)]
    assert "llm_pause" in trail and "llm_resume" in trail
