"""One trace per e-mail, exported for real: prefork workers (each pool process starts its tracer after
the fork) and the approving command send OTLP over HTTP to Arize Phoenix; the mail's ingest is the root
of one trace that holds its plan, the model's calls, each step, the hold, the person's decision (from
another process, a link to the hold) and the observer's look. Needs `make install-otlp`."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.plan_schema import plan_to_answer
from agent.planner import RulePlanner
from tests.agent.test_plan import ticket
from tests.llm_server import FakeOpenAI, running_openai
from tests.phoenix import PHOENIX, Phoenix, running_phoenix
from tests.support import TRIAGE, email_bytes, wait_for
from tests.worker_processes import deliver, worker_fleet

pytestmark = [
    pytest.mark.integration,
    pytest.mark.otlp,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not PHOENIX.exists(), reason="no OTLP receiver: `make install-otlp` installs Phoenix"),
]

POLICY = "rules:\n  - name: vip\n    when: {sender_in: [vip@example.com]}\n    then: supervised\n"


def model(request: dict[str, Any]) -> str:
    """A model that plans what the rules would, analyses plausibly and, shown the results, adds nothing."""
    name = request["response_format"]["json_schema"]["name"]
    if name == "observe":
        return json.dumps({"steps": []})
    if name == "plan":
        return json.dumps(plan_to_answer(RulePlanner().make_plan(ticket()).plan))
    analysis = {"category": "account", "confidence": 0.9, "customer_name": None, "account_id": None}
    return json.dumps(analysis | {"urgency": "medium"})


@pytest.fixture
def phoenix(tmp_path: Path) -> Any:
    with running_phoenix(tmp_path / "phoenix") as server:
        yield server


def trace_of(phoenix: Phoenix, trace_id: str) -> list[dict[str, Any]]:
    return [s for s in phoenix.spans() if s["context"]["trace_id"] == trace_id]


def test_a_held_mail_is_one_trace_across_processes_from_ingest_to_the_observers_look(
    redis_url: str, tmp_path: Path, phoenix: Phoenix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", phoenix.http)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "triage-test")
    (tmp_path / "policy.yaml").write_text(POLICY)
    subject = f"Cannot log in {uuid.uuid4().hex[:6]}"
    with running_openai(FakeOpenAI(default=model)) as openai:
        llm = {"llm_base_url": openai.url, "llm_api_key": "k", "llm_model": "gpt-4o-mini"}
        with worker_fleet(redis_url, tmp_path, policy_path=str(tmp_path / "policy.yaml"), **llm) as fleet:
            deliver(fleet.box, "1800000000.vip.mx", email_bytes(sender="vip@example.com", subject=subject))

            def held() -> str | None:
                runs = fleet.store.runs.recent(limit=5)
                return runs[0].id if runs and runs[0].status == "held" else None

            run_id = wait_for(held, 90, "the run to be held")
            approved = subprocess.run(
                [TRIAGE, "approve", run_id, "--by", "ada"], env=fleet.env, capture_output=True
            )
            assert approved.returncode == 0, approved.stderr

            def observed() -> Any:
                run = fleet.store.runs.get(run_id)
                return run if run is not None and run.is_final and run.observations else None

            run = wait_for(observed, 90, "the run to end after the observer's look")
        # The workers were stopped warm (SIGTERM): each pool process exported what it still held.

    assert run.status == "done" and run.trace_id is not None

    def exported() -> list[dict[str, Any]] | None:
        spans = trace_of(phoenix, run.trace_id or "")
        return spans if {"triage.observe", "triage.review"} <= {s["name"] for s in spans} else None

    spans = wait_for(exported, 60, "the run's spans in Phoenix")
    names = [s["name"] for s in spans]
    print(f"one trace, {len(spans)} spans in Phoenix: " + ", ".join(sorted(set(names))))
    assert {"triage.ingest", "triage.plan", "triage.hold", "triage.review", "triage.observe"} <= set(names)
    assert {
        "triage.step categorize_ticket",
        "triage.step extract_entities",
        "triage.step create_jira_issue",
    } <= set(names)
    [ingest] = [s for s in spans if s["name"] == "triage.ingest"]
    assert ingest["parent_id"] is None  # the mail is the root
    ours = [s for s in spans if s["name"].startswith("triage.")]
    assert all(s["attributes"].get("triage.run_id") == run_id for s in ours)
    assert all(s["attributes"].get("triage.mailbox") == "default" for s in ours)
    calls = [s for s in spans if s["name"] == "chat gpt-4o-mini"]
    assert calls and all(c["attributes"]["gen_ai.operation.name"] == "chat" for c in calls)
    assert all(c["attributes"]["gen_ai.usage.input_tokens"] > 0 for c in calls)
    by_id = {s["context"]["span_id"]: s["name"] for s in spans}
    callers = {
        "triage.plan",
        "triage.observe",
        "triage.step categorize_ticket",
        "triage.step extract_entities",
    }
    assert {by_id[c["parent_id"]] for c in calls} <= callers
    assert subject not in json.dumps(spans)  # TRIAGE_TRACE_CONTENT is off: no mail text
