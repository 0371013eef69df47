"""RabbitMQ as the broker (TRIAGE_BROKER_URL), Redis as the state store: real worker processes take their
work from quorum queues; a step's retry backoff (a countdown) goes through RabbitMQ's native delayed
delivery, not a worker holding the message; a restart of the broker under load loses and duplicates
nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jira_server import FakeJira, running_jira
from tests.rabbitmq import private_vhost, queue_types, rabbitmq_absent, restart_broker
from tests.support import email_bytes, wait_for
from tests.worker_processes import deliver, outcome_of, worker_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def broker() -> Iterator[str]:
    """A virtual host of the machine's RabbitMQ for this test."""
    if (why := rabbitmq_absent()) is not None:
        pytest.skip(why)
    with private_vhost() as url:
        yield url


def mail(fleet_box: Path, n: int) -> str:
    key = f"{1_800_000_000 + n}.rabbit{n}.mx"
    raw = email_bytes(subject=f"Cannot log in ({n})", message_id=f"<{uuid.uuid4().hex}@example.com>")
    deliver(fleet_box, key, raw)
    return key


def test_quorum_queues_carry_the_work_and_retries_wait_in_the_broker(
    broker: str, redis_url: str, tmp_path: Path
) -> None:
    with running_jira(FakeJira()) as jira:
        jira.fail_next("POST", r"/issue$", "503", times=3)  # three backoffs of about 1, 2 and 4 seconds
        settings = {
            "broker_url": broker,
            "jira_url": jira.url,
            "jira_user": jira.user,
            "jira_api_token": jira.token,
        }
        settings["retry_scale"] = "1"  # real backoffs: whole seconds, sent through the delay levels
        with worker_fleet(redis_url, tmp_path, ("all", "execute"), **settings) as fleet:
            keys = [mail(fleet.box, n) for n in range(6)]
            outcomes = [wait_for(lambda k=k: outcome_of(fleet.store, k), 120, k) for k in keys]  # type: ignore[misc]
            runs = [fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=10)]
            types = queue_types(broker)

    assert outcomes == ["done"] * 6
    assert [len(jira.issues_with_label(f"triage-{r.ticket.id}")) for r in runs if r] == [1] * 6
    assert {types[q] for q in ("ingest", "plan", "execute")} == {"quorum"}
    assert types["celery_delayed_0"] == "quorum"  # native delayed delivery's levels are declared
    retried = [s for r in runs if r for s in r.steps.values() if s.attempts > 1]
    assert retried  # the 503s were retried after a countdown, and the runs still finished


def test_a_broker_restart_under_load_loses_and_duplicates_nothing(
    broker: str, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_jira(FakeJira(burst=(8.0, 8))) as jira:
        settings = {
            "broker_url": broker,
            "jira_url": jira.url,
            "jira_user": jira.user,
            "jira_api_token": jira.token,
            # A task running when the connection drops is cancelled (its message goes back to the queue):
            # the sweeper, told to look often, sends again what it was doing.
            "sweep_interval_s": "5",
            "sweep_stale_s": "20",
            "tool_timeouts": '{"create_jira_issue": 10}',
        }
        with worker_fleet(redis_url, tmp_path, ("all", "execute", "execute"), **settings) as fleet:
            keys = [mail(fleet.box, n) for n in range(40)]
            wait_for(
                lambda: sum(outcome_of(fleet.store, k) is not None for k in keys) >= 8, 120, "a fifth done"
            )
            restart_broker()
            restarted = time.monotonic()
            outcomes = [wait_for(lambda k=k: outcome_of(fleet.store, k), 240, k) for k in keys]  # type: ignore[misc]
            recovered_s = time.monotonic() - restarted
            runs = [fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=100)]

    per_ticket = [len(jira.issues_with_label(f"triage-{r.ticket.id}")) for r in runs if r]
    with capsys.disabled():
        print(
            f"\nRabbitMQ restarted under load: {outcomes.count('done')} of 40 done {recovered_s:.0f} s after, "
            f"issues per ticket {set(per_ticket)}"
        )
    assert outcomes == ["done"] * 40
    assert per_ticket == [1] * 40
