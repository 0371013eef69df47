"""The run store on real Redis: every deciding write has exactly one winner."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.plan import Plan
from agent.planner import RulePlanner
from agent.run import Delivery, StepState
from agent.store import RunStore
from inbox.ticket import Ticket


def ticket() -> Ticket:
    return Ticket(id="T1", message_id="m@x", subject="s", sender="a@b.c", sender_name="", body="b",
                  received_at=datetime(2025, 1, 1, tzinfo=UTC), size=1)  # fmt: skip


def test_a_run_is_created_once(store: RunStore) -> None:
    assert store.runs.create("T1", ticket()) is True
    assert store.runs.create("T1", ticket()) is False
    run = store.runs.get("T1")
    assert run is not None and run.status == "planning" and run.ticket == ticket()


def test_the_first_plan_wins_initialises_every_step_and_claims_those_that_need_none(store: RunStore) -> None:
    store.runs.create("T1", ticket())
    planned = RulePlanner().make_plan(ticket())
    progress = store.runs.save_plan("T1", planned)
    assert progress is not None and progress.claimed == ["categorize", "extract"] and not progress.closed
    assert store.runs.save_plan("T1", planned) is None
    run = store.runs.get("T1")
    assert run is not None and run.status == "running" and run.planner == "rule"
    assert set(run.steps) == {"categorize", "extract", "create_issue"}


def planned_run(store: RunStore) -> Plan:
    store.runs.create("T1", ticket())
    planned = RulePlanner().make_plan(ticket())
    store.runs.save_plan("T1", planned)
    return planned.plan


def test_each_step_is_sent_by_one_caller_only(store: RunStore) -> None:
    plan = planned_run(store)
    assert [store.runs.advance("T1", plan).claimed for _ in range(2)] == [[], []]  # claimed by the plan
    store.runs.release_dispatch("T1", "extract")  # its send failed
    assert [store.runs.advance("T1", plan).claimed for _ in range(2)] == [["extract"], []]


def test_the_step_that_completes_the_dependencies_claims_what_follows(store: RunStore) -> None:
    plan = planned_run(store)
    done = StepState(status="done", attempts=1, result={"category": "billing"})
    assert store.runs.advance("T1", plan, "categorize", done).claimed == []  # extract is not done yet
    assert store.runs.advance("T1", plan, "extract", done).claimed == ["create_issue"]
    assert store.runs.advance("T1", plan, "extract", done).claimed == []  # a redelivery sends nothing


def test_the_last_step_closes_the_run_once(store: RunStore) -> None:
    plan = planned_run(store)
    done = StepState(status="done", attempts=1)
    outcomes = [store.runs.advance("T1", plan, step.id, done).closed for step in plan.steps]
    assert outcomes == [False, False, True]
    assert store.runs.advance("T1", plan).closed is False  # the sweeper finds it closed already
    run = store.runs.get("T1")
    assert run is not None and run.status == "done" and run.finished_at is not None
    assert "T1" not in store.runs.active_ids()


def test_a_closed_run_sends_nothing_more(store: RunStore) -> None:
    plan = planned_run(store)
    store.runs.finish("T1", "dead_letter", "categorize failed")
    progress = store.runs.advance("T1", plan, "extract", StepState(status="done", attempts=1))
    assert progress.claimed == [] and not progress.closed


def test_advancing_an_expired_run_does_not_bring_it_back(store: RunStore) -> None:
    plan = planned_run(store)
    store.runs.erase("T1")
    assert store.runs.advance("T1", plan, "extract", StepState(status="done")).outcome == -1
    assert not store.redis.exists(store.keys.run("T1"))


def test_only_a_first_attempt_is_marked_started_with_the_load(store: RunStore) -> None:
    plan = planned_run(store)
    running = StepState(status="running", attempts=1, owner="host:1")
    run, marked = store.runs.start_step("T1", "categorize", running)
    assert marked and run is not None and run.plan == plan and run.steps["categorize"] == running
    run, marked = store.runs.start_step("T1", "categorize", running)  # a redelivery: the caller decides
    assert not marked and run is not None and run.steps["categorize"] == running
    assert store.runs.start_step("T2", "categorize", running) == (None, False)


def test_a_step_of_a_run_not_running_is_not_marked(store: RunStore) -> None:
    plan = planned_run(store)
    store.runs.finish("T1", "dead_letter", "boom")
    run, marked = store.runs.start_step("T1", plan.steps[0].id, StepState(status="running", attempts=1))
    assert not marked and run is not None and run.steps[plan.steps[0].id].status == "pending"


def test_a_run_is_finished_once_and_dead_letters_are_listed_and_kept(store: RunStore) -> None:
    store.runs.create("T1", ticket())
    assert store.runs.finish("T1", "dead_letter", "boom") is True
    assert store.runs.finish("T1", "done") is False
    [letter] = store.runs.dead_letters()
    assert letter.id == "T1" and letter.status == "dead_letter" and letter.error == "boom"
    assert store.redis.ttl(store.keys.run("T1")) == -1  # persisted until an operator acts


def test_step_states_round_trip(store: RunStore) -> None:
    store.runs.create("T1", ticket())
    store.runs.save_step("T1", "x", StepState(status="done", attempts=2, result={"k": 1}))
    run = store.runs.get("T1")
    assert run is not None and run.steps["x"].attempts == 2 and run.results() == {"x": {"k": 1}}


def test_the_ledger_keeps_the_first_record(store: RunStore) -> None:
    assert store.ledger.claim("k", {"v": 1}) == (True, {"v": 1})
    assert store.ledger.claim("k", {"v": 2}) == (False, {"v": 1})
    assert store.ledger.get("k") == {"v": 1} and store.ledger.get("other") is None


def test_a_message_id_belongs_to_its_first_delivery(store: RunStore) -> None:
    assert store.deliveries.claim_message_id("m@x", "D1") == "D1"
    assert store.deliveries.claim_message_id("m@x", "D2") == "D1"
    assert store.deliveries.claim_message_id("m@x", "D1") == "D1"  # the same delivery, redelivered


def test_quarantined_deliveries_keep_their_raw_bytes_for_the_retention_not_for_good(store: RunStore) -> None:
    store.deliveries.save_raw("D1", b"garbage")
    store.deliveries.record(
        Delivery(delivery_id="D1", source="s", key="k", outcome="quarantined", reason="bad")
    )
    assert [d.reason for d in store.deliveries.quarantined()] == ["bad"]
    assert store.deliveries.raw("D1") == b"garbage" and 0 < store.redis.ttl(store.keys.raw("D1")) <= 3600


def test_erasing_a_namespace_leaves_other_namespaces_alone(store: RunStore) -> None:
    other = RunStore(store.redis, store.keys.prefix[:-1] + "-other", 3600)
    store.runs.create("T1", ticket())
    other.runs.create("T1", ticket())
    assert store.erase_namespace() >= 2
    assert store.runs.get("T1") is None and other.runs.get("T1") is not None
    other.erase_namespace()
