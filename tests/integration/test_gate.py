"""The gate, through real workers, the Jira test server (the real jira client) and a real SMTP server:
whatever condition of the policy language holds a run, nothing of it reaches Jira or the customer until a
person decides. Approved, it goes on once with the person's edits; rejected, nothing of it ever leaves."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.autonomy import Decision, Edits, Policy
from agent.llm_planner import LLMPlanner
from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.memory.recall import Recall
from agent.pins import filled, with_findings
from agent.plan import Plan
from agent.planner import Planned, RulePlanner
from agent.run import Run, StepState, now
from agent.run_summary import category_of
from agent.store.llm_budget import Caps, LLMBudget
from cli.demo_report import outcome_row
from inbox.ticket import Ticket
from tasks.review import NotDecided, decide, edited
from tasks.sweep import sweep_runs
from tests.agent.test_plan import ticket
from tests.chroma_server import ChromaServer
from tests.conftest import Pipeline
from tests.jira_server import FakeJira
from tests.smtp_server import SmtpServer
from tests.support import email_bytes, llm_config, make_maildir, triage, wait_for
from tools.catalog import CATALOG
from tools.llm_client import OpenAICompatibleLLM
from tools.memory_port import Remembered
from workers import runtime as runtime_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

URGENT_BILLING = (
    "URGENT: charged twice for our invoice",
    "We were charged twice for the invoice this month. Please refund it immediately. Our account is "
    "ACC-31337.",
)
ROUTINE = ("Export button broken", "The CSV export gives an empty file since yesterday.")
VAGUE = ("hmm", "xyz")
CFO = "cfo@bigcustomer.example"


class ModelLikePlanner:
    """Plays a model whose plan is not the rule plan: no acknowledgement."""

    def make_plan(self, ticket: Ticket, recall: Recall | None = None) -> Planned:
        rules = runtime_module.runtime().rules().make_plan(ticket, recall).plan
        steps = [step for step in rules.steps if step.tool != "acknowledge"]
        return Planned(Plan(steps=steps, rationale="a model's own plan"), "llm")


class BudgetSpentPlanner:
    """The real model planner with the fleet's day of tokens spent: the budget refuses the call before
    anything is sent, and the rules plan, saying why."""

    def make_plan(self, ticket: Ticket, recall: Recall | None = None) -> Planned:
        rt = runtime_module.runtime()
        spent = LLMBudget(rt.store.redis, rt.store.keys, Caps(daily_tokens=1), retention_s=60)
        llm = OpenAICompatibleLLM(llm_config(base_url="http://127.0.0.1:9/v1", model="m"), budget=spent)
        planner = LLMPlanner(llm, rt.catalog, max_steps=10, max_repairs=0, fallback=rt.rules())
        return planner.make_plan(ticket, recall)


class BlindModelPlanner:
    """Plays a model told to switch the policy off: a plan with no extract step, as the model planner
    takes it (agent/llm_planner.py): the finding steps it left out are added and what they find filled
    in, so the policy judges it on what they find."""

    def make_plan(self, ticket: Ticket, recall: Recall | None = None) -> Planned:
        rules = runtime_module.runtime().rules().make_plan(ticket, recall).plan
        issue = rules.step("create_issue")
        own = {k: v for k, v in issue.args.items() if "steps.extract" not in json.dumps(v)}
        blind = Plan(steps=[rules.step("categorize"), issue.model_copy(update={"args": own})], rationale="")
        return Planned(filled(with_findings(blind)), "llm")


@pytest.fixture
def hold_when(swap_runtime: Any) -> Iterator[Any]:
    """Install a policy of one rule, `gate`, holding runs (supervised) when its conditions hold."""

    def install(when: dict[str, Any], **changes: Any) -> Policy:
        policy = Policy.model_validate({"rules": [{"name": "gate", "when": when, "then": "supervised"}]})
        swap_runtime(policy=policy, **changes)
        return policy

    yield install
    rt = runtime_module.runtime()  # the review queue is the session's: leave nothing waiting in it
    for hold in rt.store.reviews.waiting():
        decide(rt, hold.run_id, Decision(action="reject", by="test", reason="left by a test", at=now()))


def send(pipeline: Pipeline, folder: Path, mail: tuple[str, str], sender: str = "ann@example.com") -> str:
    """Deliver one mail through the real ingest path; its run id."""
    raw = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@example.com>", subject=mail[0], body=mail[1], sender=sender
    )
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    assert delivery.run_id is not None, delivery
    return delivery.run_id


def wait_held(pipeline: Pipeline, run_id: str) -> Run:
    """The run once it is held, with the step that would have acted first parked."""

    def held() -> Run | None:
        run = pipeline.store.runs.get(run_id)
        if run is None or run.is_final:
            raise AssertionError(f"run {run_id} ended without being held: {run and run.status}")
        return run if run.status == "held" else None

    return wait_for(held, 30, f"run {run_id} to be held")


def settled_while_held(pipeline: Pipeline, run_id: str) -> Run:
    """The held run once nothing more can happen before a decision: the sweeper found nothing lost."""
    assert sweep_runs()["lost_steps"] == 0
    run = pipeline.store.runs.get(run_id)
    assert run is not None and run.status == "held"
    return run


CONDITIONS = [
    pytest.param({"category": ["billing"]}, URGENT_BILLING, None, "ann@example.com", id="category"),
    pytest.param({"urgency": ["high"]}, URGENT_BILLING, None, "ann@example.com", id="urgency"),
    pytest.param(
        {"category": ["billing"], "urgency": ["high"]}, URGENT_BILLING, None, "ann@example.com", id="both"
    ),
    pytest.param({"confidence_below": 0.3}, VAGUE, None, "ann@example.com", id="confidence"),
    pytest.param({"sender_in": ["CFO@BigCustomer.example"]}, ROUTINE, None, CFO, id="sender"),
    pytest.param({"account_in": ["acc-31337"]}, URGENT_BILLING, None, "ann@example.com", id="account"),
    pytest.param({"planner": ["llm"]}, ROUTINE, ModelLikePlanner(), "ann@example.com", id="planner"),
    pytest.param(
        {"differs_from_rule_plan": True}, ROUTINE, ModelLikePlanner(), "ann@example.com", id="differs"
    ),
    pytest.param(
        {"llm_budget_spent": True}, ROUTINE, BudgetSpentPlanner(), "ann@example.com", id="llm-budget-spent"
    ),
    # A model's plan is held by the extractor's urgency: its issue may take no other (agent/pins.py).
    pytest.param(
        {"urgency": ["high"]}, URGENT_BILLING, ModelLikePlanner(), "ann@example.com", id="urgency-model-plan"
    ),
    # A plan without finding steps gets them, and is judged on what they find.
    pytest.param(
        {"urgency": ["high"]}, URGENT_BILLING, BlindModelPlanner(), "ann@example.com", id="blind-urgency"
    ),
    pytest.param(
        {"account_in": ["acc-31337"]},
        URGENT_BILLING,
        BlindModelPlanner(),
        "ann@example.com",
        id="blind-account",
    ),
]


@pytest.mark.parametrize(("when", "mail", "planner", "sender"), CONDITIONS)
def test_a_run_held_by_any_condition_reaches_neither_jira_nor_the_customer_before_approval(
    pipeline: Pipeline,
    jira: FakeJira,
    smtp: SmtpServer,
    hold_when: Any,
    tmp_path: Path,
    when: dict[str, Any],
    mail: tuple[str, str],
    planner: Any,
    sender: str,
) -> None:
    hold_when(when, **({"planner": planner} if planner else {}))
    run_id = send(pipeline, tmp_path / "mail", mail, sender)
    held = wait_held(pipeline, run_id)
    settled_while_held(pipeline, run_id)
    assert held.steps["create_issue"].status == "pending"
    assert jira.state.requests == [] and smtp.messages() == []
    [hold] = [json.loads(line) for line in triage("review", "--json").output.splitlines() if run_id in line]
    assert hold["rules"] == ["gate"] and hold["parked"] == ["create_issue"]

    approved = triage("approve", run_id, "--by", "maria")
    assert approved.exit_code == 0, approved.output
    done = pipeline.wait_final(run_id)
    assert done.status == "done", done.error
    [issue] = jira.issues_with_label(f"triage-{done.ticket.id}")
    acks = [m for m in smtp.messages() if m["In-Reply-To"] == f"<{done.ticket.message_id}>"]
    ruled = done.planner in (
        "rule",
        "fallback",
    )  # the rules' plan acknowledges; the model's plans here do not
    assert len(acks) == (1 if ruled else 0)
    assert all(f"[{issue['key']}]" in m["Subject"] for m in acks)


def test_a_run_like_a_ticket_of_an_incident_is_held_before_its_issue(
    pipeline: Pipeline, jira: FakeJira, smtp: SmtpServer, hold_when: Any, chroma: ChromaServer, tmp_path: Path
) -> None:
    memory = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", url=chroma.url)
    earlier = Remembered(
        ticket_id="t-earlier",
        subject=ROUTINE[0],
        body=ROUTINE[1],
        sender="bo@example.com",
        received_at=now(),
        seen_at=now(),
        category="technical",
        issue_key="SUP-1",
    )
    memory.remember(earlier)
    memory.mark_incident(["t-earlier"], "INC-1")
    hold_when({"incident": True}, memory=memory, planner=RulePlanner(remember=True, incidents=True))
    run_id = send(pipeline, tmp_path / "mail", ROUTINE)
    held = settled_while_held(pipeline, wait_held(pipeline, run_id).id)
    assert held.recall is not None and [n.incident for n in held.recall.similar] == ["INC-1"]
    assert jira.state.requests == [] and smtp.messages() == []


def test_approving_with_edits_opens_the_issue_as_edited_and_acknowledges_with_them(
    pipeline: Pipeline, jira: FakeJira, smtp: SmtpServer, hold_when: Any, tmp_path: Path
) -> None:
    hold_when({"category": ["billing"], "urgency": ["high"]})
    run_id = send(pipeline, tmp_path / "mail", URGENT_BILLING)
    wait_held(pipeline, run_id)
    edited = triage("approve", run_id, "--category", "technical", "--urgency", "low", "--by", "maria")
    assert edited.exit_code == 0, edited.output
    done = pipeline.wait_final(run_id)
    [issue] = jira.issues_with_label(f"triage-{done.ticket.id}")
    assert issue["fields"]["summary"] == f"[technical] {URGENT_BILLING[0]}"
    assert "category-technical" in issue["fields"]["labels"] and issue["fields"]["priority"]["name"] == "Low"
    assert done.plan is not None and done.plan.step("acknowledge").args["category"] == "technical"
    assert category_of(done) == "technical"  # what the console shows
    assert len(smtp.messages()) == 1


def test_a_rejected_run_leaves_nothing_in_jira_nor_with_the_customer(
    pipeline: Pipeline, jira: FakeJira, smtp: SmtpServer, hold_when: Any, tmp_path: Path
) -> None:
    hold_when({"account_in": ["ACC-31337"]})
    run_id = send(pipeline, tmp_path / "mail", URGENT_BILLING)
    wait_held(pipeline, run_id)
    rejected = triage("reject", run_id, "--reason", "a known fraudster", "--by", "maria")
    assert rejected.exit_code == 0, rejected.output
    run = pipeline.wait_final(run_id)
    assert run.status == "rejected" and sweep_runs()["lost_steps"] == 0
    assert jira.state.requests == [] and smtp.messages() == []
    assert all(
        state.status != "done" for sid, state in run.steps.items() if sid not in ("categorize", "extract")
    )
    delivery = pipeline.store.deliveries.get(
        pipeline.store.deliveries.message_owner(run.ticket.message_id) or ""
    )
    assert delivery is not None
    row = outcome_row(delivery, run)  # what the demo says of it
    assert row is not None and row["status"] == "rejected" and row["ack"] == "not sent: the run was rejected"


def test_an_edit_of_what_the_run_does_not_do_is_refused_with_the_reason(
    pipeline: Pipeline, jira: FakeJira, hold_when: Any, tmp_path: Path
) -> None:
    hold_when({"sender_in": [CFO]})
    first_id = send(pipeline, tmp_path / "first", ROUTINE, CFO)
    wait_held(pipeline, first_id)
    assert triage("approve", first_id, "--by", "maria").exit_code == 0
    first = pipeline.wait_final(first_id)
    reply = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@example.com>",
        subject=f"Re: {ROUTINE[0]}",
        body="Still broken.",
        sender=CFO,
        headers={"In-Reply-To": f"<{first.ticket.message_id}>"},
    )
    [delivery] = pipeline.feed(make_maildir(tmp_path / "reply", reply))
    assert delivery.outcome == "threaded" and delivery.run_id is not None
    wait_held(pipeline, delivery.run_id)  # its comment waits for a person too
    refused = triage("approve", delivery.run_id, "--summary", "Export broken for the CFO", "--by", "maria")
    assert refused.exit_code == 1 and "no step of this run takes summary" in refused.output
    assert pipeline.store.reviews.decision(delivery.run_id) is None  # nothing was decided
    comments_before = sum(len(c) for c in jira.state.comments.values())
    assert triage("approve", delivery.run_id, "--by", "maria").exit_code == 0
    assert pipeline.wait_final(delivery.run_id).status == "done"
    assert sum(len(c) for c in jira.state.comments.values()) == comments_before + 1


def test_an_edit_reaches_every_step_still_to_run_and_none_that_ran() -> None:
    mail = ticket(id="T1", message_id="m@x")
    planned = RulePlanner(acknowledge=True).make_plan(mail).plan
    pending = edited(planned, Edits(category="billing"), {}, CATALOG)
    assert (
        pending.step("create_issue").args["category"]
        == pending.step("acknowledge").args["category"]
        == "billing"
    )
    ran = {"create_issue": StepState(status="done")}
    with pytest.raises(
        NotDecided, match=r"category of step 'create_issue' \(create_jira_issue\), which is done"
    ):
        edited(planned, Edits(category="billing"), ran, CATALOG)


def test_an_edit_reaches_what_memory_keeps_too() -> None:
    mail = ticket(id="T2", message_id="n@x")
    planned = RulePlanner(remember=True, acknowledge=True).make_plan(mail).plan
    pending = edited(planned, Edits(category="billing", urgency="high"), {}, CATALOG)
    assert pending.step("remember").args["category"] == "billing"
    assert pending.step("remember").args["urgency"] == pending.step("create_issue").args["urgency"] == "high"
