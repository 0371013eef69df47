"""One flood cannot delay the others: 200 mails from one sender arrive ahead of 10 customers' mails at a
fleet that Jira holds to 8 requests a second, so the backlog is real; several worker processes take
turns per sender domain, so every customer's mail is done before a quarter of the flood is; the flood
is done too, nothing dropped. A flood that writes a new invented domain into each From fares no better:
our mail server's DMARC verdict fails them, and they share the turns of the network they came from."""

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
        "trusted_authserv_id": OUR_SERVER,
    }


OUR_SERVER = "mx.acme.example"  # the authserv-id of the mail server the desk trusts


def headers_from(relay: str, domain: str, dmarc: str) -> dict[str, str]:
    """What our mail server writes on a message: where it came from, and its DMARC verdict."""
    return {
        "Received": f"from mail.{domain} (mail.{domain} [{relay}]) by {OUR_SERVER}; Mon, 7 Dec 2026",
        "Authentication-Results": f"{OUR_SERVER}; dmarc={dmarc} header.from={domain}",
    }


Mail = tuple[str, str, str, dict[str, str]]  # the Maildir key, From, subject, header fields


def customers() -> list[Mail]:
    return [
        (
            f"1800000001.c{n:02d}.mx",
            f"ann@zcustomer{n}.example",
            "Cannot log in",
            headers_from(f"198.51.{n}.7", f"zcustomer{n}.example", "pass"),
        )
        for n in range(CUSTOMERS)
    ]


def test_customers_behind_a_flood_finish_before_a_quarter_of_it(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flooder = f"robot-{uuid.uuid4().hex[:6]}@flood.example"
    flood = headers_from("203.0.113.9", "flood.example", "pass")
    mails = [(f"1800000000.f{n:03d}.mx", flooder, f"Order export {n} failed", flood) for n in range(FLOOD)]
    ahead = flood_ahead_of_customers(redis_url, tmp_path, mails + customers(), capsys, "one sender")
    assert max(ahead) < FLOOD // 4


def test_a_flood_of_invented_domains_shares_the_turns_of_its_network(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mails = [
        (
            f"1800000000.f{n:03d}.mx",
            f"billing@a{n:03d}.example",
            f"Invoice {n} overdue",
            headers_from(f"203.0.113.{n % 200 + 1}", f"a{n:03d}.example", "fail"),
        )
        for n in range(FLOOD)
    ]
    ahead = flood_ahead_of_customers(redis_url, tmp_path, mails + customers(), capsys, "invented domains")
    assert max(ahead) < FLOOD // 4


def flood_ahead_of_customers(
    redis_url: str, tmp_path: Path, mails: list[Mail], capsys: pytest.CaptureFixture[str], what: str
) -> list[int]:
    """Deliver the flood, then the customers' mail, at once; wait for every one to be done; how many of
    the flood's mails were done before each customer's."""
    with (
        running_jira(FakeJira(burst=(PER_S, int(PER_S)))) as jira,
        worker_fleet(redis_url, tmp_path, ("all", "execute", "execute"), **settings_for(jira)) as fleet,
    ):
        for key, sender, subject, headers in mails:  # the first poll finds the flood first
            message_id = f"<{uuid.uuid4().hex}@x.example>"
            deliver(
                fleet.box,
                key,
                email_bytes(sender=sender, subject=subject, message_id=message_id, headers=headers),
            )
        outcomes = [wait_for(lambda k=k: outcome_of(fleet.store, k), 300, k) for k, *_ in mails]  # type: ignore[misc]
        runs = {
            d.key: fleet.store.runs.get(d.run_id or "") for d in fleet.store.deliveries.recent(limit=1000)
        }
    finished = {key: run.finished_at for key, run in runs.items() if run is not None and run.finished_at}
    flood_done = sorted(t for key, t in finished.items() if ".f" in key)
    ahead = [sum(t < finished[key] for t in flood_done) for key, *_ in mails[FLOOD:]]
    with capsys.disabled():
        print(
            f"\n{FLOOD} mails ({what}) ahead of {CUSTOMERS} customers, 3 worker processes, "
            f"Jira at {PER_S:g} requests/s: "
            f"flood mails done before each customer's: {ahead} (a quarter is {FLOOD // 4})"
        )
    assert outcomes == ["done"] * len(mails)
    assert len(flood_done) == FLOOD
    return ahead
