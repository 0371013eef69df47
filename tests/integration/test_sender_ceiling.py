"""One sender cannot hold up everyone else: past TRIAGE_SENDER_MAX_PER_HOUR a sender's runs wait as
`deferred` (the delivery says why) while other customers' mail goes straight through; nothing is dropped:
the sweeper plans the deferred runs as the sender's hours allow, and they finish too."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tasks.sweep import sweep_runs
from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir
from tools import ledger_keys
from tools.mail_out import mailbox_of
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration

CEILING = 3


def mail(sender: str, n: int) -> bytes:
    return email_bytes(
        sender=sender, subject=f"Cannot log in ({n})", message_id=f"<{uuid.uuid4().hex}@example.com>"
    )


def test_a_flood_from_one_sender_waits_its_turn_and_the_customers_behind_it_do_not(
    pipeline: Pipeline, swap_runtime: Any, tmp_path: Path
) -> None:
    rt = runtime_module.runtime()
    swap_runtime(settings=rt.settings.model_copy(update={"sender_max_per_hour": CEILING}))
    flooder = f"flood-{uuid.uuid4().hex[:6]}@bulk.example"
    flood = [mail(flooder, n) for n in range(8)]
    customers = [mail(f"customer{n}-{uuid.uuid4().hex[:6]}@example.com", n) for n in range(2)]
    deliveries = pipeline.feed(make_maildir(tmp_path / "box", *flood, *customers))
    waiting = [d for d in deliveries[:8] if "deferred: its sender started over 3 runs" in (d.reason or "")]
    assert len(waiting) == 5 and all(d.outcome == "ticket" for d in deliveries)
    for delivery in deliveries[8:]:  # the customers behind the flood: straight through
        assert pipeline.wait_final(delivery.run_id or "").status == "done"
    assert {pipeline.store.runs.get(d.run_id or "").status for d in waiting} == {"deferred"}  # type: ignore[union-attr]

    counted = pipeline.store.keys.ledger(ledger_keys.intake_from(mailbox_of(flooder)))
    released = []
    for _ in range(2):  # two of the sender's hours go by
        pipeline.store.redis.delete(counted)
        released.append(sweep_runs()["released"])
    assert released == [3, 2]
    for delivery in waiting:
        assert pipeline.wait_final(delivery.run_id or "").status == "done"
