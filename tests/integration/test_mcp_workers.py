"""A real prefork worker (`triage worker --pool prefork -c 2`) whose model plans call a consumed MCP
server's tools (tests/mcp_crm_server.py over stdio): every run finds its account, and each worker process
keeps one session with the server rather than starting it for every call."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.plan_schema import plan_to_answer
from agent.planner import RulePlanner
from tests.agent.test_plan import ticket
from tests.llm_server import FakeOpenAI, running_openai
from tests.support import ROOT, email_bytes, wait_for
from tests.worker_processes import deliver, outcome_of, worker_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

MAILS = 6
CALLS = [
    {"id": "crm__find_account", "tool": "crm__find_account", "args": {"email": {"ref": "ticket.sender"}}},
    {"id": "crm__whoami", "tool": "crm__whoami", "args": {}},
]


def plan_with_the_crm(request: dict[str, Any]) -> str:
    """What the model answers: the rules' plan of a new ticket and two calls to the CRM."""
    steps = plan_to_answer(RulePlanner().make_plan(ticket()).plan)["steps"]
    return json.dumps({"steps": [*steps, *CALLS]})


def test_a_prefork_workers_processes_keep_one_session_each_with_a_consumed_server(
    redis_url: str, tmp_path: Path
) -> None:
    crm = {
        "name": "crm",
        "command": [sys.executable, "-m", "tests.mcp_crm_server"],
        "env": {"PYTHONPATH": str(ROOT)},
        "read_only": ["find_account", "whoami"],
        "timeout_s": 20,
    }
    with running_openai(FakeOpenAI(default=plan_with_the_crm)) as server:
        settings = {
            "llm_model": "test-model",
            "llm_base_url": server.url,
            "llm_tools": "false",
            "observe_rounds": "0",
            "memory": "off",
            "planner_max_tools": "200",  # every tool shown: this test is about sessions
            "mcp_servers": json.dumps([crm]),
        }
        with worker_fleet(redis_url, tmp_path, ("all",), **settings) as fleet:
            keys = [f"1800000100.m{n:02d}.mx" for n in range(MAILS)]
            for key in keys:
                raw = email_bytes(
                    sender="Ann Example <ann@example.com>", message_id=f"<{uuid.uuid4().hex}@x>"
                )
                deliver(fleet.box, key, raw)
            outcomes = [wait_for(lambda k=k: outcome_of(fleet.store, k), 180, k) for k in keys]  # type: ignore[misc]
            runs = [fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=100)]

    assert outcomes == ["done"] * MAILS
    done = [r for r in runs if r is not None]
    assert all(r.planner == "llm" for r in done), [r.planner_notes for r in done]
    assert all(r.steps["crm__find_account"].result["account_id"] == "ACC-77120" for r in done)
    servers = {r.steps["crm__whoami"].result["text"] for r in done}
    assert 1 <= len(servers) <= 2  # one server per worker process (-c 2), not one per call
