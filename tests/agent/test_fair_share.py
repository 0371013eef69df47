"""Fair share on the real Redis: runs are taken in turn per mailbox, then per sender domain, in the
proportion of their weights; a flood ahead of a few customers does not keep them waiting; nothing
waits twice, nothing is taken twice, even with many processes taking turns at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from agent.store import RunStore

ROOMY = 100_000  # room for every run in flight


def take_all(store: RunStore) -> list[str]:
    taken: list[str] = []
    while (run := store.fair.take(ROOMY)) is not None:
        taken.append(run)
    return taken


def test_a_flood_ahead_of_customers_is_taken_in_turn_with_them(store: RunStore) -> None:
    for n in range(200):
        store.fair.push(f"flood-{n}", "support", "flood.example")
    for n in range(10):
        store.fair.push(f"customer-{n}", "support", f"customer{n}.example")

    order = take_all(store)

    assert len(order) == 210 and set(order) == {f"flood-{n}" for n in range(200)} | {
        f"customer-{n}" for n in range(10)
    }
    last_customer = max(order.index(f"customer-{n}") for n in range(10))
    assert last_customer < 20  # every customer within the first round of domains
    assert [r for r in order if r.startswith("flood")] == [f"flood-{n}" for n in range(200)]  # in order


def test_mailboxes_take_turns_before_their_domains_do(store: RunStore) -> None:
    for n in range(6):
        store.fair.push(f"a{n}", "support", f"d{n}.example")
    for n in range(3):
        store.fair.push(f"b{n}", "billing", "one.example")

    order = take_all(store)

    # billing's one domain gets as many turns as support's six together
    assert order[:6] in (["a0", "b0", "a1", "b1", "a2", "b2"], ["b0", "a0", "b1", "a1", "b2", "a2"])


def test_weights_give_turns_in_their_proportion(store: RunStore) -> None:
    for n in range(30):
        store.fair.push(f"big-{n}", "support", "big.example", weights=(1.0, 3.0))
        store.fair.push(f"small-{n}", "support", "small.example")

    first = take_all(store)[:20]

    assert sum(r.startswith("big") for r in first) == 15


def test_a_sender_that_was_idle_has_saved_up_no_turns(store: RunStore) -> None:
    for n in range(10):
        store.fair.push(f"busy-{n}", "support", "busy.example")
    assert take_all(store)[:1] == ["busy-0"]  # everything taken: the clock moved on
    for n in range(4):
        store.fair.push(f"late-{n}", "support", "late.example")
    store.fair.push("busy-again", "support", "busy.example")

    order = take_all(store)

    assert order.index("busy-again") <= 1  # late.example did not get its idle time's turns in a row


def test_a_run_waits_once_and_is_in_flight_until_released(store: RunStore) -> None:
    assert store.fair.push("r1", "support", "x.example")
    assert not store.fair.push("r1", "support", "x.example")
    assert store.fair.is_waiting("r1") and store.fair.waiting_by_mailbox() == {"support": 1}

    assert store.fair.take(ROOMY) == "r1" and store.fair.take(ROOMY) is None
    assert not store.fair.is_waiting("r1") and store.fair.admitted_at("r1") is not None
    assert store.fair.waiting_by_mailbox() == {}
    assert store.fair.in_flight() == ["r1"]

    assert store.fair.release("r1") and not store.fair.release("r1")
    assert store.fair.admitted_at("r1") is None and store.fair.in_flight() == []
    assert not [k for k in store.redis.scan_iter(f"{store.keys.fair_prefix}*")]  # nothing left behind


def test_no_turn_is_taken_while_the_most_runs_are_in_flight(store: RunStore) -> None:
    for n in range(5):
        store.fair.push(f"r{n}", "support", "x.example")

    assert [store.fair.take(2) for _ in range(3)] == ["r0", "r1", None]
    store.fair.release("r0")
    assert [store.fair.take(2) for _ in range(2)] == ["r2", None]
    assert store.fair.waiting() == 2


def test_many_takers_at_once_each_get_a_distinct_run(store: RunStore) -> None:
    runs = {f"r{n}" for n in range(400)}
    for n, run in enumerate(sorted(runs)):
        store.fair.push(run, f"mailbox{n % 3}", f"d{n % 7}.example")

    with ThreadPoolExecutor(16) as pool:
        taken = list(pool.map(lambda _: store.fair.take(ROOMY), range(420)))

    got = [r for r in taken if r is not None]
    assert len(got) == 400 and set(got) == runs


def test_workers_alive_are_counted_until_their_beat_expires(store: RunStore) -> None:
    store.workers.beat("exec@host-a", 4, True, ttl_s=30)
    store.workers.beat("plan@host-b", 8, False, ttl_s=30)
    store.workers.beat("exec@host-c", 2, True, ttl_s=30)
    assert store.workers.execute_slots() == 6

    store.workers.gone("exec@host-c")
    store.workers.beat("exec@host-a", 4, True, ttl_s=0)  # as good as a beat that ran out
    assert store.workers.execute_slots() == 0
    assert set(store.workers.alive()) == {"plan@host-b"}


def test_the_counts_by_mailbox_follow_every_push_and_turn(store: RunStore) -> None:
    for n in range(30):
        store.fair.push(f"s-{n}", "support", f"d{n % 7}.example")
    for n in range(12):
        store.fair.push(f"b-{n}", "billing", "one.example")
    store.fair.push("s-0", "support", "d0.example")  # waits once
    assert store.fair.waiting_by_mailbox() == {"support": 30, "billing": 12}

    taken = [store.fair.take(ROOMY) for _ in range(20)]

    left = {"support": 30 - sum(t.startswith("s-") for t in taken if t), "billing": 12}
    left["billing"] -= sum(t.startswith("b-") for t in taken if t)
    assert store.fair.waiting_by_mailbox() == {k: v for k, v in left.items() if v}
    assert sum(left.values()) == store.fair.waiting() == 22
