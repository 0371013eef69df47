"""The run store on real Redis: every deciding write has exactly one winner."""

from __future__ import annotations

from datetime import UTC, datetime

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


def test_the_first_plan_wins_and_initialises_every_step(store: RunStore) -> None:
    store.runs.create("T1", ticket())
    planned = RulePlanner().make_plan(ticket())
    assert store.runs.save_plan("T1", planned) is True
    assert store.runs.save_plan("T1", planned) is False
    run = store.runs.get("T1")
    assert run is not None and run.status == "running" and run.planner == "rule"
    assert set(run.steps) == {"categorize", "extract", "create_issue"}


def test_each_step_is_dispatched_by_one_caller_only(store: RunStore) -> None:
    store.runs.create("T1", ticket())
    assert [store.runs.claim_dispatch("T1", ["a"]) for _ in range(3)] == [["a"], [], []]
    assert store.runs.claim_dispatch("T1", ["a", "b"]) == ["b"]  # in one round trip, only the unclaimed
    store.runs.release_dispatch("T1", "a")
    assert store.runs.claim_dispatch("T1", ["a"]) == ["a"]


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
