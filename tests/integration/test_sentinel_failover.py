"""A broker that fails over: workers follow a Redis master through its Sentinels; the master's process is
killed under load, the Sentinels promote the replica, and every mail still ends once: nothing lost,
nothing twice, nothing stuck. A mail is marked read in its mailbox only once a replica has its record."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import redis

from agent.store import RunStore
from tests.redis_sentinel import MASTER, running_sentinels
from tests.support import email_bytes, wait_for
from tests.worker_processes import deliver, outcome_of, worker_fleet
from workers.redis_connection import redis_client
from workers.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BEFORE, AFTER = 10, 10  # mails delivered before the master dies, and while it is being replaced


def final(store: RunStore, key: str) -> str | None:
    """The mail's final outcome; None while pending, or while Redis is changing masters."""
    try:
        return outcome_of(store, key)
    except redis.RedisError:
        return None


def test_killing_the_master_under_load_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_sentinels(tmp_path) as sentinels:
        url = f"redis://127.0.0.1:{sentinels.master_port}/0"
        follow = {"redis_sentinels": json.dumps(sentinels.addresses), "redis_sentinel_master": MASTER}
        client = redis_client(
            load_settings(redis_url=url, redis_sentinels=sentinels.addresses, redis_sentinel_master=MASTER)
        )
        # A step running when its master dies is sent again after its time limit and 30 s (its worker
        # lives, so its heartbeat does not tell): the limits an operator who wants a fast failover sets.
        limits = json.dumps({"create_jira_issue": 10, "acknowledge": 10, "categorize_ticket": 10})
        fleet_settings = {**follow, "sweep_interval_s": "2", "sweep_stale_s": "10", "tool_timeouts": limits}
        with worker_fleet(url, tmp_path, ("all", "execute"), client=client, **fleet_settings) as fleet:
            keys = [f"{1_800_000_000 + i}.m{i}.mx" for i in range(BEFORE + AFTER)]

            def send(key: str) -> None:
                deliver(fleet.box, key, email_bytes(message_id=f"<{uuid.uuid4().hex}@example.com>"))

            for key in keys[:BEFORE]:
                send(key)
            wait_for(
                lambda: sum(final(fleet.store, k) == "done" for k in keys[:BEFORE]) >= 5 or None,
                120,
                "the first tickets to be done",
            )
            killed = time.monotonic()
            sentinels.kill_master()
            for key in keys[BEFORE:]:
                send(key)
            wait_for(
                lambda: sentinels.master() == sentinels.replica_port or None, 60, "the replica's promotion"
            )
            promoted = time.monotonic() - killed
            outcomes = [wait_for(lambda k=key: final(fleet.store, k), 180, f"mail {key}") for key in keys]  # type: ignore[misc]
            recovered = time.monotonic() - killed
            per_key = [sum(d.key == k for d in fleet.store.deliveries.recent(limit=1000)) for k in keys]
            outbox = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    issues = [line["run_id"] for line in outbox if line.get("kind") == "create_issue"]
    with capsys.disabled():
        print(
            f"\nfailover: replica promoted {promoted:.1f}s after the master died; all {len(keys)} mails final "
            f"{recovered:.1f}s after; lost {outcomes.count(None)}, duplicates {len(issues) - len(set(issues))}"
        )
    assert outcomes == ["done"] * len(keys)  # nothing lost, nothing stuck
    assert per_key == [1] * len(keys) and len(issues) == len(set(issues)) == len(keys)  # nothing twice
