"""TRIAGE_LLM_REDACT through the worker: the planner, the analysis and the observer's look reach the
model server with placeholders only, the same customer the same placeholder in all three, and the Jira
issue is written with the real values the answers stood for."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.llm_planner import LLMPlanner
from agent.observer import Observer
from agent.plan_schema import plan_to_answer
from agent.planner import RulePlanner
from tests.agent.test_plan import ticket
from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import email_bytes, llm_config, make_maildir
from tools.catalog import CATALOG
from tools.llm_client import OpenAICompatibleLLM
from tools.pii import Redactor

pytestmark = pytest.mark.integration

BODY = "Hi,\nI was charged twice on account ACC-48213. Call me on +44 20 7946 0958.\n\nThanks,\nPriya Raman"


def model(request: dict[str, Any]) -> str:
    """A model that plans what the rules would, adds nothing after looking, and answers the analysis
    with the placeholders it was shown for the writer and the account."""
    name = request["response_format"]["json_schema"]["name"]
    if name == "plan":
        return json.dumps(plan_to_answer(RulePlanner().make_plan(ticket()).plan))
    if name == "observe":
        return json.dumps({"steps": []})
    prompt = request["messages"][1]["content"]
    person, account = re.search(r"<PERSON_\d+>", prompt), re.search(r"<ACCOUNT_\d+>", prompt)
    found = {"customer_name": person and person.group(0), "account_id": account and account.group(0)}
    return json.dumps({"category": "billing", "confidence": 0.9, "urgency": "medium"} | found)


@pytest.fixture
def redacting(
    pipeline: Pipeline, swap_runtime: Any, point_at_jira: Any
) -> Iterator[tuple[FakeJira, FakeOpenAI]]:
    with running_jira(FakeJira()) as jira, running_openai(FakeOpenAI(default=model)) as openai:
        point_at_jira(jira)
        config = llm_config(base_url=openai.url, api_key="k", model="m", timeout_s=5, max_transport_retries=0)
        llm = OpenAICompatibleLLM(config, redactor=Redactor(pipeline.settings.account_id_pattern))
        swap_runtime(
            planner=LLMPlanner(llm, CATALOG, max_steps=10, max_repairs=1),
            llm=llm,
            observer=Observer(llm, CATALOG, max_steps=10, max_repairs=1),
        )
        yield jira, openai


def test_the_model_sees_placeholders_and_jira_gets_the_customer(
    pipeline: Pipeline, redacting: tuple[FakeJira, FakeOpenAI], tmp_path: Path
) -> None:
    jira, openai = redacting
    sender = f"priya.{uuid.uuid4().hex[:6]}@kettle.example"
    raw = email_bytes(subject="Charged twice", body=BODY, sender=sender, message_id=f"<{uuid.uuid4().hex}@x>")
    [delivery] = pipeline.feed(make_maildir(tmp_path / "mail", raw))
    run = pipeline.wait_final(delivery.run_id or "", timeout=60)
    assert run.status == "done" and run.planner == "llm" and len(run.observations) == 1

    asked = {r["response_format"]["json_schema"]["name"]: json.dumps(r["messages"]) for r in openai.requests}
    assert set(asked) == {"plan", "ticket_analysis", "observe"}
    for value in (sender, "Priya", "Raman", "ACC-48213", "7946 0958"):
        assert not [name for name, text in asked.items() if value in text], value
    assert all("<PERSON_1>" in text and "<EMAIL_1>" in text for text in (asked["plan"], asked["observe"]))
    [issue] = jira.state.issues.values()
    written = json.dumps(issue)
    assert "Priya Raman" in written and "ACC48213" in written and "<PERSON" not in written
