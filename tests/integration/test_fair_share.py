"""One flood cannot delay the others: 200 mails from one sender arrive ahead of 10 customers' mails at a
fleet that Jira holds to 8 requests a second, so the backlog is real; several worker processes take
turns per sender domain, so every customer's mail is done before a quarter of the flood is; the flood
is done too, nothing dropped."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.jira_server import FakeJira, running_jira
from tests.support import email_bytes, wait_for
from tests.worker_processes import deliver, outcome_of, worker_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

PER_S = 8.0  # what the Jira allows, per endpoint and method, over every caller
FLOOD = 200
CUSTOMERS = 10


def settings_for(jira: FakeJira) -> dict[str, str]:
    """Workers that keep Jira's limit, and a ceiling on one sender's hour that the flood stays under."""
    return {
        "jira_url": jira.url,
        "jira_user": jira.user,
        "jira_api_token": jira.token,
        "jira_rates": json.dumps(
            dict.fromkeys(("search", "create", "comment", "attachments", "other"), PER_S)
        ),
        "sender_max_per_hour": str(FLOOD),
    }


def test_customers_behind_a_flood_finish_before_a_quarter_of_it(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flooder = f"robot-{uuid.uuid4().hex[:6]}@flood.example"
    mails = [(f"1800000000.f{n:03d}.mx", flooder, f"Order export {n} failed") for n in range(FLOOD)]
    mails += [
        (f"1800000001.c{n:02d}.mx", f"ann@customer{n}.example", "Cannot log in") for n in range(CUSTOMERS)
    ]
    with (
        running_jira(FakeJira(burst=(PER_S, int(PER_S)))) as jira,
        worker_fleet(redis_url, tmp_path, ("all", "execute", "execute"), **settings_for(jira)) as fleet,
    ):
        for key, sender, subject in mails:  # delivered at once: the first poll finds the flood first
            raw = email_bytes(sender=sender, subject=subject, message_id=f"<{uuid.uuid4().hex}@x.example>")
            deliver(fleet.box, key, raw)
        outcomes = [wait_for(lambda k=k: outcome_of(fleet.store, k), 300, k) for k, _, _ in mails]  # type: ignore[misc]
        runs = {
            d.key: fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=1000)
        }
    finished = {key: run.finished_at for key, run in runs.items() if run is not None and run.finished_at}
    flood_done = sorted(t for key, t in finished.items() if ".f" in key)
    ahead = [sum(t < finished[key] for t in flood_done) for key, _, _ in mails[FLOOD:]]
    with capsys.disabled():
        print(
            f"\n{FLOOD} mails from one sender ahead of {CUSTOMERS} customers, 3 worker processes, "
            f"Jira at {PER_S:g} requests/s: "
            f"flood mails done before each customer's: {ahead} (a quarter is {FLOOD // 4})"
        )
    assert outcomes == ["done"] * len(mails)
    assert len(flood_done) == FLOOD
    assert max(ahead) < FLOOD // 4
