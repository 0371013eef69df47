"""Jira's rate limit is the fleet's, not each worker's: several real worker processes, and a Jira test
server that keeps Jira Cloud's burst limit over all callers (4 requests a second per endpoint and method,
answered 429 with Retry-After, X-RateLimit-Reset and RateLimit-Reason). Before the shared pacer, 59 of
60 tickets dead-lettered on 429s; now every ticket gets exactly one issue, almost nothing is refused, and
issues are made at the limit's pace."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.jira_server import FakeJira, running_jira
from tests.support import email_bytes, wait_for
from tests.worker_processes import deliver, outcome_of, worker_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PER_S = 4.0  # what the Jira allows, per endpoint and method, over every caller
TICKETS = 60


def test_several_workers_keep_jiras_burst_limit_together(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_jira(FakeJira(burst=(PER_S, int(PER_S)))) as jira:
        settings = {
            "jira_url": jira.url,
            "jira_user": jira.user,
            "jira_api_token": jira.token,
            "jira_rates": json.dumps(
                dict.fromkeys(("search", "create", "comment", "attachments", "other"), PER_S)
            ),
        }
        with worker_fleet(redis_url, tmp_path, ("all", "execute", "execute"), **settings) as fleet:
            keys = [f"{1_800_000_000 + i}.t{i}.mx" for i in range(TICKETS)]
            for i, key in enumerate(keys):
                raw = email_bytes(
                    subject=f"Cannot log in ({i})", message_id=f"<{uuid.uuid4().hex}@example.com>"
                )
                deliver(fleet.box, key, raw)
            outcomes = [
                wait_for(lambda k=key: outcome_of(fleet.store, k), 240, f"ticket {key}") for key in keys
            ]  # type: ignore[misc]
            runs = [fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=1000)]
        requests, refused = len(jira.state.requests), jira.state.rate_refusals
        made = sorted(jira.state.created_at)
    pace = (len(made) - 1) / (made[-1] - made[0])
    with capsys.disabled():
        print(
            f"\n{TICKETS} tickets, 3 worker processes, Jira at {PER_S:g} requests/s per endpoint: "
            f"{len(made)} issues, {requests} requests, {refused} answered 429 ({refused / requests:.1%}), "
            f"issues made at {pace:.2f}/s"
        )
    assert outcomes == ["done"] * TICKETS
    per_ticket = [len(jira.issues_with_label(f"triage-{run.ticket.id}")) for run in runs if run is not None]
    assert per_ticket == [1] * TICKETS
    assert refused <= 0.05 * requests
    assert pace >= 0.9 * PER_S
