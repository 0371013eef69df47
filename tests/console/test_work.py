"""The work people do in the console, through the real pipeline: decide held runs (edits, once),
retry and discard dead letters, look at and release or drop quarantined mail, find runs; every action in
the audit trail with who did it, and mail text always shown as text."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.autonomy import Policy
from agent.plan import Plan, Step
from agent.planner import Planned, RulePlanner
from agent.run import Delivery, Observation, Run, StepState, now
from inbox.preview import envelope_of
from tests.agent.test_plan import ticket
from tests.conftest import Pipeline
from tests.console.conftest import VIP, People, csrf_of, login, send_mail
from tests.integration.test_reliability import flaky
from tests.support import ScriptedPlanner, email_bytes, issue_plan, wait_for

pytestmark = pytest.mark.integration


def wait_status(pipeline: Pipeline, run_id: str, status: str) -> Run:
    def reached() -> Run | None:
        run = pipeline.store.runs.get(run_id)
        return run if run is not None and run.status == status else None

    return wait_for(reached, 30, f"run {run_id} to be {status}")


def audit_of(pipeline: Pipeline, ident: str) -> list[dict[str, object]]:
    return [
        e for e in pipeline.store.operations.audit_trail(200) if ident in (e.get("run"), e.get("delivery"))
    ]


def test_an_approver_edits_and_approves_a_held_run_once_in_the_browser_forms(
    pipeline: Pipeline, held_policy: Policy, app: FastAPI, tmp_path: Path
) -> None:
    subject = f"API down {uuid.uuid4().hex[:6]}"
    run_id = send_mail(pipeline, tmp_path / "box", f"Chief Financial <{VIP}>", subject)
    wait_status(pipeline, run_id, "held")
    maria = login(app, "maria")
    queue = maria.get("/review")
    assert subject in queue.text and f'action="/review/{run_id}/approve"' in queue.text
    form = {"csrf": csrf_of(maria), "category": "billing", "urgency": "low", "priority": "High",
            "summary": "Finance locked out", "reason": "VIP"}  # fmt: skip
    unknown = maria.post(f"/review/{run_id}/approve", data={**form, "priority": "Blocker"})
    assert unknown.status_code == 409 and "&#39;Blocker&#39; is none of High, Low, Medium" in unknown.text
    answer = maria.post(f"/review/{run_id}/approve", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/review?done=approved"
    done = pipeline.wait_final(run_id)
    assert done.status == "done"
    [issue] = [x for x in pipeline.outbox() if x["run_id"] == run_id and x["kind"] == "create_issue"]
    fields = issue["request"]["fields"]
    assert fields["summary"] == "[billing] Finance locked out" and fields["priority"] == {"name": "High"}
    assert "Urgency: low" in fields["description"]  # the priority a person chose, whatever the urgency
    again = maria.post(f"/review/{run_id}/approve", data=form)
    assert again.status_code == 409 and "decided already: approve by maria" in again.text
    assert [(e["action"], e["by"]) for e in audit_of(pipeline, run_id)] == [("approve", "maria")]
    page = maria.get(f"/runs/{run_id}").text
    assert "Decided: <strong>approve</strong> by maria" in page and "Finance locked out" in page


def test_an_edit_the_plan_refuses_is_shown_and_nothing_is_decided(
    pipeline: Pipeline, held_policy: Policy, app: FastAPI, tmp_path: Path
) -> None:
    run_id = send_mail(pipeline, tmp_path / "box", VIP, "Edit me badly")
    wait_status(pipeline, run_id, "held")
    maria = login(app, "maria")
    bad = maria.post(f"/review/{run_id}/approve", data={"csrf": csrf_of(maria), "category": "no such thing!"})
    assert bad.status_code == 422 and "category" in bad.text
    assert pipeline.store.reviews.decision(run_id) is None
    token = {"X-CSRF-Token": csrf_of(maria)}
    answer = maria.post(
        f"/api/reviews/{run_id}/reject", json={"reason": "spam from a lookalike"}, headers=token
    )
    assert answer.status_code == 200 and answer.json()["action"] == "reject"
    assert wait_status(pipeline, run_id, "rejected").error == "rejected by maria: spam from a lookalike"


def test_an_admin_retries_and_discards_dead_letters(
    pipeline: Pipeline, app: FastAPI, tmp_path: Path, use_planner: Any, add_tool: Any
) -> None:
    add_tool(flaky)  # fails once per run, for good: "after the fix" the replay passes
    flaky_step = {"id": "step", "tool": "flaky", "args": {"failures": 1, "permanent": True}}
    use_planner(ScriptedPlanner(issue_plan(flaky_step)))
    first = send_mail(pipeline, tmp_path / "a", "a@example.com", "Will fail")
    second = send_mail(pipeline, tmp_path / "b", "b@example.com", "Will fail too")
    assert pipeline.wait_final(first).status == pipeline.wait_final(second).status == "dead_letter"
    ada = login(app, "ada")
    letters = ada.get("/dead-letters").text
    assert "flaky" in letters and f'action="/dead-letters/{first}/retry"' in letters
    csrf = csrf_of(ada)
    assert (
        ada.post(f"/dead-letters/{first}/retry", data={"csrf": csrf, "reason": "unarchived"}).status_code
        == 303
    )
    assert pipeline.wait_final(first).status == "done"
    assert ada.post(f"/dead-letters/{second}/discard", data={"csrf": csrf}).status_code == 409  # no reason
    assert (
        ada.post(f"/dead-letters/{second}/discard", data={"csrf": csrf, "reason": "test"}).status_code == 303
    )
    assert pipeline.store.runs.get(second).status == "discarded"  # type: ignore[union-attr]
    assert [(e["action"], e["by"]) for e in audit_of(pipeline, first)] == [("retry", "ada")]
    assert [(e["action"], e["by"]) for e in audit_of(pipeline, second)] == [("discard", "ada")]


def quarantine(pipeline: Pipeline, raw: bytes, reason: str) -> str:
    """A message kept in quarantine as ingest keeps it: its raw copy and its delivery record."""
    delivery_id = f"console-{uuid.uuid4().hex[:10]}"
    pipeline.store.deliveries.save_raw(delivery_id, raw)
    pipeline.store.deliveries.record(
        Delivery(
            delivery_id=delivery_id,
            source="maildir:test",
            key=delivery_id,
            **vars(envelope_of(raw)),
            outcome="quarantined",
            reason=reason,
        )
    )
    return delivery_id


def test_quarantined_mail_shows_as_text_and_is_released_as_a_ticket_or_dropped(
    pipeline: Pipeline, app: FastAPI, people: People
) -> None:
    hostile = email_bytes(
        subject='<img src=x onerror="alert(1)">', message_id=f"<{uuid.uuid4().hex}@example.com>",
        body="<script>alert('owned')</script>\nPlease help.", sender="Mallory <mallory@example.com>",
    )  # fmt: skip
    kept = quarantine(pipeline, hostile, "poison: the ingest worker died 3 times on this message")
    junk = quarantine(pipeline, b"\x00\x01 not mail at all", "no header fields: not an e-mail message")
    ada = login(app, "ada")
    page = ada.get(f"/quarantine/{kept}").text
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page and "<img" not in page
    csrf = csrf_of(ada)
    assert (
        ada.post(f"/quarantine/{kept}/release", data={"csrf": csrf, "reason": "a customer"}).status_code
        == 303
    )

    def released() -> Delivery | None:
        delivery = pipeline.store.deliveries.get(kept)
        return delivery if delivery is not None and delivery.outcome == "ticket" else None

    delivery = wait_for(released, 30, "the released mail to become a ticket")
    assert delivery.reason and delivery.reason.startswith("released by ada")
    run = pipeline.wait_final(delivery.run_id or "")
    assert run.status == "done" and kept not in {
        d.delivery_id for d in pipeline.store.deliveries.quarantined()
    }
    run_page = ada.get(f"/runs/{run.id}").text
    assert "&lt;script&gt;" in run_page and "<script>alert" not in run_page

    bot = {"Authorization": f"Bearer {people.tokens['admin']}"}
    with TestClient(app, base_url="https://testserver") as client:
        shown = client.get(f"/api/quarantine/{junk}", headers=bot).json()
        assert shown["delivery"]["reason"] == "no header fields: not an e-mail message"
        assert (
            client.post(f"/api/quarantine/{junk}/drop", headers=bot, json={"reason": "junk"}).status_code
            == 200
        )
        assert (
            client.post(f"/api/quarantine/{junk}/drop", headers=bot, json={"reason": "junk"}).status_code
            == 409
        )
    assert pipeline.store.deliveries.get(junk) is None and pipeline.store.deliveries.raw(junk) is None
    assert [(e["action"], e["by"]) for e in audit_of(pipeline, junk)] == [("drop", "bot-admin")]


def test_a_release_that_still_cannot_be_a_ticket_stays_in_quarantine_saying_why(
    pipeline: Pipeline, app: FastAPI
) -> None:
    nameless = quarantine(pipeline, b"Subject: hello\r\nFrom: nobody\r\n\r\nbody\r\n", "no sender address")
    ada = login(app, "ada")
    assert (
        ada.post(f"/quarantine/{nameless}/release", data={"csrf": csrf_of(ada), "reason": "try"}).status_code
        == 303
    )

    def noted() -> Delivery | None:
        delivery = pipeline.store.deliveries.get(nameless)
        return delivery if delivery is not None and "released by ada" in (delivery.reason or "") else None

    delivery = wait_for(noted, 30, "the release to be noted")
    assert delivery.outcome == "quarantined" and "no sender address in From" in (delivery.reason or "")
    assert nameless in {d.delivery_id for d in pipeline.store.deliveries.quarantined()}


def test_runs_are_found_by_status_category_date_and_text_with_times_in_the_viewers_zone(
    pipeline: Pipeline, app: FastAPI, people: People, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex[:8]
    run_id = send_mail(pipeline, tmp_path / "box", "finder@example.com", f"Refund {marker}",
                       "I was charged twice for my invoice, please refund.")  # fmt: skip
    run = pipeline.wait_final(run_id)
    vera = login(app, "vera")
    vera.cookies.set("tz", "Asia/Kolkata")
    found = vera.get("/runs", params={"q": marker, "status": "done"}).text
    assert f'href="/runs/{run_id}"' in found and "IST" in found and "times in Asia/Kolkata" in found
    assert f'href="/runs/{run_id}"' not in vera.get("/runs", params={"q": marker, "status": "held"}).text
    assert f'href="/runs/{run_id}"' not in vera.get("/runs", params={"q": marker, "since": "2999-01-01"}).text
    bot = {"Authorization": f"Bearer {people.tokens['viewer']}"}
    with TestClient(app, base_url="https://testserver") as client:
        listed = client.get("/api/runs", params={"q": marker}, headers=bot).json()["runs"]
        assert [(r["id"], r["category"]) for r in listed] == [
            (run_id, run.steps["categorize"].result["category"])
        ]  # type: ignore[index]
        other = "technical" if listed[0]["category"] != "technical" else "billing"
        assert (
            client.get("/api/runs", params={"q": marker, "category": other}, headers=bot).json()["runs"] == []
        )
        detail = client.get(f"/api/runs/{run_id}", headers=bot).json()
        assert detail["run"]["ticket"]["subject"] == f"Refund {marker}" and detail["hold"] is None


def test_a_run_page_shows_each_look_at_the_results_and_the_steps_it_added(
    pipeline: Pipeline, app: FastAPI, people: People
) -> None:
    runs, seen = pipeline.store.runs, ticket(id=f"T{uuid.uuid4().hex[:8]}")
    plan = RulePlanner().make_plan(seen).plan
    runs.create(seen.id, seen)
    runs.save_plan(seen.id, Planned(plan, "llm"), observe=(1, 60))
    for step in plan.steps:
        runs.advance(seen.id, plan, step.id, StepState(status="done", attempts=1, result={}))
    draft = Step(id="draft", tool="draft_reply", args={"issue_key": {"$ref": "steps.create_issue.issue_key"}})
    look = Observation(round=1, at=now(), outcome="extended", added=["draft"], notes=["repaired after 1"])
    longer = Plan(steps=[*plan.steps, draft])
    runs.extend_plan(seen.id, longer, look, rounds_left=0)
    runs.advance(seen.id, longer, "draft", StepState(status="done", attempts=1, result={"drafted": True}))
    page = login(app, "vera").get(f"/runs/{seen.id}").text
    assert "draft_reply, added after seeing the results" in page
    assert "Look 1 at the results" in page and "<strong>extended</strong> (added draft)" in page
    assert "<li>repaired after 1</li>" in page
