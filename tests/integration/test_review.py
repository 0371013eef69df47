"""People in the loop, through the real pipeline: the policy holds a run before its first side effect
(no worker waits), a person approves it with edits once, rejects it, or the timeout decides."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.autonomy import Policy
from agent.run import Run, now
from tasks.review import expire_holds
from tasks.sweep import sweep_runs
from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir, triage, wait_for
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration

VIP = "cfo@bigcustomer.example"


@pytest.fixture
def policy(swap_runtime: Any) -> Policy:
    """Mail from the VIP waits for a person; a timeout opens the issue marked needs-triage."""
    held = Policy.model_validate(
        {
            "on_timeout": "needs_triage",
            "rules": [{"name": "vip", "when": {"sender_in": [VIP]}, "then": "supervised"}],
        }
    )
    swap_runtime(policy=held)
    return held


def send(pipeline: Pipeline, folder: Path, sender: str) -> str:
    raw = email_bytes(message_id=f"<{uuid.uuid4().hex}@example.com>", subject="API returns 500",
                      body="Every request to the API fails since this morning.", sender=sender)  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    assert delivery.run_id is not None
    return delivery.run_id


def wait_held(pipeline: Pipeline, run_id: str) -> Run:
    def held() -> Run | None:
        run = pipeline.store.runs.get(run_id)
        return run if run is not None and run.status == "held" else None

    return wait_for(held, 30, f"run {run_id} to be held")


def issues_of(pipeline: Pipeline, run_id: str) -> list[dict[str, Any]]:
    return [line for line in pipeline.outbox() if line["run_id"] == run_id and line["kind"] == "create_issue"]


def test_a_held_run_waits_without_a_worker_and_goes_on_once_with_a_persons_edits(
    pipeline: Pipeline, policy: Policy, tmp_path: Path
) -> None:
    run_id = send(pipeline, tmp_path / "vip", f"Chief Financial <{VIP}>")
    run = wait_held(pipeline, run_id)
    assert run.steps["categorize"].status == run.steps["extract"].status == "done"
    assert run.steps["create_issue"].status == "pending" and issues_of(pipeline, run_id) == []
    assert sweep_runs()["lost_steps"] == 0 and pipeline.store.runs.get(run_id).status == "held"  # type: ignore[union-attr]
    listed = triage("review", "--json")
    [hold] = [json.loads(line) for line in listed.output.splitlines() if run_id in line]
    assert hold["mode"] == "supervised" and hold["rules"] == ["vip"] and hold["parked"] == ["create_issue"]

    edited = triage("approve", run_id, "--category", "billing", "--urgency", "high", "--summary",
                    "Outage for our finance team", "--by", "maria", "--reason", "VIP, billing desk")  # fmt: skip
    assert edited.exit_code == 0, edited.output
    done = pipeline.wait_final(run_id)
    assert done.status == "done"
    [issue] = issues_of(pipeline, run_id)
    fields = issue["request"]["fields"]
    assert (
        fields["summary"] == "[billing] Outage for our finance team"
        and "category-billing" in fields["labels"]
    )
    assert fields["priority"] == {"name": "High"}
    again = triage("approve", run_id, "--by", "tom")
    assert again.exit_code == 1 and "decided already: approve by maria" in again.output
    assert len(issues_of(pipeline, run_id)) == 1
    [audit] = [e for e in pipeline.store.operations.audit_trail() if e["run"] == run_id]
    assert audit["action"] == "approve" and audit["by"] == "maria" and audit["edits"]["category"] == "billing"


def test_a_rejected_run_ends_without_its_side_effects_and_others_are_not_held(
    pipeline: Pipeline, policy: Policy, tmp_path: Path
) -> None:
    run_id = send(pipeline, tmp_path / "vip", VIP)
    wait_held(pipeline, run_id)
    bad = triage("approve", run_id, "--category", "not a word")
    assert bad.exit_code == 1 and "category" in bad.output  # an edit the plan refuses decides nothing
    rejected = triage("reject", run_id, "--reason", "the customer called, sorted by phone", "--by", "maria")
    assert rejected.exit_code == 0, rejected.output
    run = pipeline.wait_final(run_id)
    assert run.status == "rejected" and "sorted by phone" in (run.error or "")
    assert issues_of(pipeline, run_id) == [] and run_id not in {
        r.id for r in pipeline.store.runs.dead_letters()
    }

    other = pipeline.wait_final(send(pipeline, tmp_path / "other", "someone@example.com"))
    assert other.status == "done" and len(issues_of(pipeline, other.id)) == 1


def test_a_hold_nobody_decides_on_takes_the_policys_default_at_the_timeout(
    pipeline: Pipeline, policy: Policy, tmp_path: Path
) -> None:
    run_id = send(pipeline, tmp_path / "vip", VIP)
    wait_held(pipeline, run_id)
    rt = runtime_module.runtime()
    assert expire_holds(rt) == 0  # not yet
    assert expire_holds(rt, now() + timedelta(seconds=rt.settings.approval_timeout_s + 1)) == 1
    run = pipeline.wait_final(run_id)
    [issue] = issues_of(pipeline, run_id)
    assert run.status == "done" and "needs-triage" in issue["request"]["fields"]["labels"]
    decision = pipeline.store.reviews.decision(run_id)
    assert decision is not None and decision.by == "policy:timeout"
