"""Observe, then act, in the run store on real Redis: the look at a run's results is claimed by one
caller, a lost look is claimed again once it is overdue, a look is recorded once, and a caller holding
the plan from before an extension can neither close the run nor claim another look."""

from __future__ import annotations

import time

from agent.plan import Plan, Step
from agent.planner import Planned, RulePlanner
from agent.run import Observation, StepState, now
from agent.store import RunStore
from tests.agent.test_store import ticket

DONE = StepState(status="done", attempts=1, result={"category": "billing", "issue_key": "SUP-1"})
DRAFT = Step(id="draft", tool="draft_reply", args={"subject": {"$ref": "ticket.subject"},
             "body": {"$ref": "ticket.body"}, "issue_key": {"$ref": "steps.create_issue.issue_key"}})  # fmt: skip


def observed_run(store: RunStore, rounds: int = 1, within_s: float = 60) -> Plan:
    """A model's plan whose every step is done but the last (create_issue), observed `rounds` times."""
    store.runs.create("T1", ticket())
    plan = RulePlanner().make_plan(ticket()).plan
    store.runs.save_plan("T1", Planned(plan, "llm"), observe=(rounds, within_s))
    store.runs.advance("T1", plan, "categorize", DONE)
    store.runs.advance("T1", plan, "extract", DONE)
    return plan


def look(number: int, *added: str) -> Observation:
    return Observation(round=number, at=now(), outcome="extended" if added else "nothing", added=list(added))


def test_the_last_step_claims_the_look_instead_of_closing_the_run_and_only_once(store: RunStore) -> None:
    plan = observed_run(store)
    progress = store.runs.advance("T1", plan, "create_issue", DONE)
    assert progress.observe and not progress.closed
    assert not store.runs.advance("T1", plan).observe  # a redelivery or the sweeper: the look is taken
    run = store.runs.get("T1")
    assert run is not None and run.status == "running" and run.finished_at is None


def test_a_look_whose_task_was_lost_is_claimed_again_once_overdue(store: RunStore) -> None:
    plan = observed_run(store, within_s=0.2)
    assert store.runs.advance("T1", plan, "create_issue", DONE).observe
    deadline = time.monotonic() + 5
    while not (again := store.runs.advance("T1", plan)).observe and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting on the claim's age, the condition under test
    assert again.observe


def test_a_look_that_could_not_be_sent_is_released_for_the_next_caller(store: RunStore) -> None:
    plan = observed_run(store)
    assert store.runs.advance("T1", plan, "create_issue", DONE).observe
    store.runs.release_observe("T1")
    assert store.runs.advance("T1", plan).observe


def test_an_extension_appends_pending_steps_claims_the_ready_ones_and_is_recorded_once(
    store: RunStore,
) -> None:
    plan = observed_run(store)
    store.runs.advance("T1", plan, "create_issue", DONE)
    longer = Plan(steps=[*plan.steps, DRAFT])
    progress = store.runs.extend_plan("T1", longer, look(1, "draft"), rounds_left=0)
    assert progress is not None and progress.claimed == ["draft"] and not progress.closed
    assert store.runs.extend_plan("T1", longer, look(1, "draft"), rounds_left=0) is None  # a second look
    run = store.runs.get("T1")
    assert run is not None and run.plan == longer and run.steps["draft"].status == "pending"
    assert [(o.round, o.outcome, o.added) for o in run.observations] == [(1, "extended", ["draft"])]
    closed = store.runs.advance("T1", longer, "draft", DONE)
    assert closed.closed  # no rounds left: the added step's end closes the run


def test_a_look_that_adds_nothing_closes_the_run(store: RunStore) -> None:
    plan = observed_run(store, rounds=3)
    store.runs.advance("T1", plan, "create_issue", DONE)
    progress = store.runs.extend_plan("T1", plan, look(1), rounds_left=2)
    assert progress is not None and progress.closed
    run = store.runs.get("T1")
    assert run is not None and run.status == "done" and run.observations[0].outcome == "nothing"


def test_with_rounds_left_the_added_steps_are_looked_at_again(store: RunStore) -> None:
    plan = observed_run(store, rounds=2)
    store.runs.advance("T1", plan, "create_issue", DONE)
    longer = Plan(steps=[*plan.steps, DRAFT])
    store.runs.extend_plan("T1", longer, look(1, "draft"), rounds_left=1)
    assert store.runs.advance("T1", longer, "draft", DONE).observe


def test_a_caller_holding_the_plan_from_before_the_extension_neither_closes_nor_looks(
    store: RunStore,
) -> None:
    plan = observed_run(store, rounds=2)
    store.runs.advance("T1", plan, "create_issue", DONE)
    store.runs.extend_plan("T1", Plan(steps=[*plan.steps, DRAFT]), look(1, "draft"), rounds_left=1)
    stale = store.runs.advance("T1", plan)  # every step of *its* plan is done
    assert not stale.closed and not stale.observe and stale.claimed == []
    run = store.runs.get("T1")
    assert run is not None and run.status == "running"


def test_a_plan_not_observed_closes_as_before(store: RunStore) -> None:
    store.runs.create("T1", ticket())
    plan = RulePlanner().make_plan(ticket()).plan
    store.runs.save_plan("T1", Planned(plan, "rule"))
    for step in ("categorize", "extract"):
        store.runs.advance("T1", plan, step, DONE)
    assert store.runs.advance("T1", plan, "create_issue", DONE).closed
