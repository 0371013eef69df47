"""The review queue on the real Redis: a run is held once, decided once, and leaves the queue then."""

from __future__ import annotations

import threading
from datetime import timedelta

from agent.autonomy import Decision, Hold
from agent.run import now
from agent.store import RunStore


def hold(run_id: str, minutes_ago: int = 0) -> Hold:
    at = now() - timedelta(minutes=minutes_ago)
    return Hold(run_id=run_id, mode="supervised", rules=["vip"], held_at=at, expires_at=at + timedelta(hours=4),
                on_timeout="needs_triage", parked=["create_issue"])  # fmt: skip


def test_the_first_hold_of_a_run_counts_and_the_queue_lists_the_oldest_first(store: RunStore) -> None:
    assert store.reviews.hold(hold("R2", minutes_ago=5)) and store.reviews.hold(hold("R1", minutes_ago=9))
    assert not store.reviews.hold(hold("R2"))  # held already: the first hold stands
    assert [h.run_id for h in store.reviews.waiting()] == ["R1", "R2"]
    assert store.reviews.held("R2") is not None and store.reviews.held("R3") is None


def test_of_two_people_deciding_at_once_one_decides_and_the_run_leaves_the_queue(store: RunStore) -> None:
    store.reviews.hold(hold("R1"))
    start, won = threading.Barrier(2), []

    def approve(by: str) -> None:
        start.wait()
        if store.reviews.decide("R1", Decision(action="approve", by=by, at=now())):
            won.append(by)

    people = [threading.Thread(target=approve, args=(by,)) for by in ("maria", "tom")]
    for person in people:
        person.start()
    for person in people:
        person.join()
    decision = store.reviews.decision("R1")
    assert len(won) == 1 and decision is not None and decision.by == won[0]
    assert store.reviews.waiting() == []
