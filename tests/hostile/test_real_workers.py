"""The hostile-mail suite: each crafted shape, then a normal mail, through a real prefork worker on Redis.

Prints a table (case, outcome, seconds to its outcome, worker RSS growth, whether the next normal mail
was done at once) and fails if a shape stalls the worker, ends anywhere but its expected outcome, or
holds up the mail behind it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.shapes import LARGE_SHAPES, SHAPES, Shape
from tests.support import email_bytes, wait_for
from tests.worker_processes import Worker, deliver, outcome_of, prefork_worker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

OVERSIZE = Shape("oversize-12mb", "the size limit (read whole before the check)",
                 lambda: email_bytes(subject="attachment", body="z" * 12_000_000, message_id="<big@example.com>"),
                 outcome="quarantined")  # fmt: skip
AT_ONCE_S = 10.0  # a normal mail behind a hostile one is done within this: nothing stalled


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (the pool, the pool's helper processes),
    in KiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[1])
        rss[int(entry.name)] = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
    family = {pid}
    while grown := {child for child, parent in parents.items() if parent in family} - family:
        family |= grown
    return sum(rss.get(p, 0) for p in family)


@pytest.fixture(scope="module")
def worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with prefork_worker(redis_url, tmp_path_factory.mktemp("hostile")) as running:
        yield running


def test_no_crafted_mail_stalls_a_worker_or_the_mail_behind_it(
    worker: Worker, capsys: pytest.CaptureFixture[str]
) -> None:
    process, box, store = worker
    # Warm up first (both pool processes train the categorizer on their first ticket), so the figures
    # below are each shape's own.
    for n in range(4):
        deliver(box, f"1700000000.warmup{n}.mx", email_bytes(message_id=f"<warmup-{n}-{uuid.uuid4().hex}@x>"))
    for n in range(4):
        wait_for(lambda k=f"1700000000.warmup{n}.mx": outcome_of(store, k), 120, "the warm-up mail")  # type: ignore[misc]
    rows = []
    for i, shape in enumerate([*SHAPES, *LARGE_SHAPES, OVERSIZE]):
        hostile, normal_key = (
            f"{1_800_000_000 + 2 * i}.hostile{i}.mx",
            f"{1_800_000_001 + 2 * i}.normal{i}.mx",
        )
        before = rss_kib(process.pid)
        started = time.monotonic()
        deliver(box, hostile, shape.raw())
        deliver(
            box,
            normal_key,
            email_bytes(subject="Cannot log in", message_id=f"<{uuid.uuid4().hex}@example.com>"),
        )
        outcome = wait_for(lambda k=hostile: outcome_of(store, k), 120, f"{shape.name} to reach an outcome")  # type: ignore[misc]
        took = time.monotonic() - started
        normal = wait_for(lambda k=normal_key: outcome_of(store, k), 120, f"the mail after {shape.name}")  # type: ignore[misc]
        normal_after = time.monotonic() - started - took
        growth = rss_kib(process.pid) - before
        rows.append((shape, outcome, took, growth, normal, normal_after))
    with capsys.disabled():
        print("\n| case | attacks | outcome | seconds | worker RSS growth | next normal mail |")
        print("|---|---|---|---|---|---|")
        for shape, outcome, took, growth, normal, after in rows:
            at_once = f"{normal} {after:.2f}s later" + ("" if after < AT_ONCE_S else " (held up)")
            print(
                f"| {shape.name} | {shape.attacks} | {outcome} | {took:.2f} | {growth / 1024:+.1f} MiB | {at_once} |"
            )
    expected = {"ticket": "done", "quarantined": "quarantined"}
    assert [(s.name, o) for s, o, *_ in rows] == [(s.name, expected[s.outcome]) for s, *_ in rows]
    assert all(normal == "done" and after < AT_ONCE_S for *_, normal, after in rows)
    assert max(growth for *_, growth, _, _ in rows) < 64 * 1024, "a shape grew the worker by 64 MiB or more"


def test_a_mail_whose_reading_overruns_the_deadline_is_stopped_and_quarantined(
    redis_url: str, tmp_path: Path
) -> None:
    slow = LARGE_SHAPES[-1]  # 10 MB of short lines: about a second to read, over a deadline of 0.3 s
    with prefork_worker(redis_url, tmp_path, parse_deadline_s="0.3") as (_, box, store):
        deliver(box, "1800000000.slow.mx", slow.raw())
        deliver(box, "1800000001.next.mx", email_bytes(message_id=f"<{uuid.uuid4().hex}@example.com>"))
        outcome = wait_for(lambda: outcome_of(store, "1800000000.slow.mx"), 120, "the slow mail's outcome")
        after = wait_for(lambda: outcome_of(store, "1800000001.next.mx"), 60, "the mail behind it")
        [held] = [d for d in store.deliveries.quarantined() if d.key == "1800000000.slow.mx"]
    assert outcome == "quarantined" and after == "done"
    assert held.reason and held.reason.startswith("reading it was stopped (TRIAGE_PARSE_DEADLINE_S)")
    assert held.subject == "lines10mb"  # found again by its head, without reading the rest
