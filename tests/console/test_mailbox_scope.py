"""A console user or API token limited to some mailboxes sees, counts and acts on what came to those
mailboxes only: another mailbox's run, hold, dead letter or quarantined mail is not listed, not counted
and, asked for by its id, answers 404 as if it did not exist (nothing tells it is there)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from agent.autonomy import Decision, Policy
from agent.run import Delivery, now
from console.app import create_app
from console.users import DirectoryError, UsersFile, add_token, add_user, load_directory
from inbox.ticket import Ticket
from tasks.review import decide
from tests.conftest import Pipeline
from tests.console.conftest import PASSWORD, VIP, login
from tests.support import email_bytes, make_maildir, triage, wait_for
from workers import runtime as runtime_module
from workers.desks import Desk


@dataclass(frozen=True)
class Arrived:
    """What came to one mailbox: a held run, a dead letter and a quarantined message."""

    held: str
    dead: str
    quarantined: str
    subject: str


@dataclass(frozen=True)
class Scoped:
    """The console, with billing's own viewer token, admin token and admin user, and an unlimited admin."""

    app: FastAPI
    viewer: dict[str, str]
    admin: dict[str, str]
    everything: dict[str, str]


def _mail_to(pipeline: Pipeline, folder: Path, mailbox: str) -> Arrived:
    tag = uuid.uuid4().hex[:8]
    subject = f"{mailbox} invoice {tag}"
    good = email_bytes(message_id=f"<{tag}@example.com>", subject=subject, sender=f"CFO <{VIP}>")
    bad = b"Subject: no sender at all\r\n\r\nhello\r\n"
    deliveries = pipeline.feed(make_maildir(folder / mailbox, good, bad), mailbox=mailbox)
    [held, quarantined] = deliveries
    assert held.run_id is not None and quarantined.outcome == "quarantined"
    wait_for(lambda: pipeline.store.reviews.held(held.run_id or ""), 30, f"{mailbox}'s VIP mail held")
    dead = f"dead-{mailbox}-{tag}"
    ticket = Ticket(
        id=dead,
        message_id=f"{dead}@x",
        subject=f"{mailbox} failed {tag}",
        sender="a@b.c",
        sender_name="",
        body="b",
        received_at=datetime.now(UTC),
        size=1,
        mailbox=mailbox,
    )
    pipeline.store.runs.create(dead, ticket)
    pipeline.store.runs.finish(dead, "dead_letter", "Jira refused it (set up by the test)")
    return Arrived(held.run_id, dead, quarantined.delivery_id, subject)


@pytest.fixture
def desks(pipeline: Pipeline, swap_runtime: Any, tmp_path: Path) -> Iterator[dict[str, Arrived]]:
    policy = {
        "on_timeout": "reject",
        "rules": [{"name": "vip", "when": {"sender_in": [VIP]}, "then": "supervised"}],
    }
    swap_runtime(policy=Policy.model_validate(policy))
    made = {name: _mail_to(pipeline, tmp_path, name) for name in ("support", "billing")}
    yield made
    rt = runtime_module.runtime()
    for desk in made.values():
        pipeline.store.runs.discard(desk.dead)
        if pipeline.store.reviews.held(desk.held) and not pipeline.store.reviews.decision(desk.held):
            decide(rt, desk.held, Decision(action="reject", by="test", reason="left by a test", at=now()))


@pytest.fixture
def scoped(pipeline: Pipeline, tmp_path: Path) -> Scoped:
    path = tmp_path / "users.yaml"
    add_user(path, "bill", "admin", PASSWORD, ["billing"])
    viewer = add_token(path, "billing-bot", "viewer", ["billing"])
    admin = add_token(path, "billing-admin", "admin", ["billing"])
    everything = add_token(path, "root-bot", "admin")
    app = create_app(runtime_module.runtime(), UsersFile(path))
    return Scoped(app, _bearer(viewer), _bearer(admin), _bearer(everything))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api(scoped: Scoped) -> TestClient:
    return TestClient(scoped.app, base_url="https://testserver", follow_redirects=False)


def test_a_limited_token_lists_and_counts_only_its_mailboxes(
    scoped: Scoped, desks: dict[str, Arrived]
) -> None:
    api = _api(scoped)
    runs = {r["id"] for r in api.get("/api/runs", headers=scoped.viewer).json()["runs"]}
    assert desks["billing"].held in runs and desks["billing"].dead in runs
    assert not runs & {desks["support"].held, desks["support"].dead}
    asked_for_support = api.get("/api/runs", params={"mailbox": "support"}, headers=scoped.viewer)
    assert asked_for_support.json()["runs"] == []
    holds = {w["hold"]["run_id"] for w in api.get("/api/reviews", headers=scoped.viewer).json()}
    assert desks["billing"].held in holds and desks["support"].held not in holds
    dead = {r["id"] for r in api.get("/api/dead-letters", headers=scoped.viewer).json()}
    assert desks["billing"].dead in dead and desks["support"].dead not in dead
    held_mail = {d["delivery_id"] for d in api.get("/api/quarantine", headers=scoped.viewer).json()["mail"]}
    assert desks["billing"].quarantined in held_mail and desks["support"].quarantined not in held_mail
    limited, everything = (api.get("/api/live", headers=h).json() for h in (scoped.viewer, scoped.everything))
    assert limited["review_queue"] < everything["review_queue"]
    assert limited["dead_letters"] < everything["dead_letters"]
    assert limited["quarantined"] < everything["quarantined"]
    assert api.get("/api/me", headers=scoped.viewer).json()["mailboxes"] == ["billing"]


def test_another_mailboxs_ids_answer_404_and_nothing_is_done(
    scoped: Scoped, desks: dict[str, Arrived], pipeline: Pipeline
) -> None:
    api, other, own = _api(scoped), desks["support"], desks["billing"]
    assert api.get(f"/api/runs/{own.held}", headers=scoped.admin).status_code == 200
    reads = [f"/api/runs/{other.held}", f"/api/runs/{other.dead}", f"/api/quarantine/{other.quarantined}"]
    for path in reads:
        assert api.get(path, headers=scoped.admin).status_code == 404, path
    writes = {
        f"/api/reviews/{other.held}/approve": {},
        f"/api/reviews/{other.held}/reject": {"reason": "not mine"},
        f"/api/dead-letters/{other.dead}/retry": {"reason": "not mine"},
        f"/api/dead-letters/{other.dead}/discard": {"reason": "not mine"},
        f"/api/quarantine/{other.quarantined}/release": {"reason": "not mine"},
        f"/api/quarantine/{other.quarantined}/drop": {"reason": "not mine"},
    }
    for path, body in writes.items():
        assert api.post(path, json=body, headers=scoped.admin).status_code == 404, path
    assert pipeline.store.reviews.held(other.held) is not None
    assert pipeline.store.reviews.decision(other.held) is None
    assert pipeline.store.runs.get(other.dead).status == "dead_letter"  # type: ignore[union-attr]
    delivery = pipeline.store.deliveries.get(other.quarantined)
    assert isinstance(delivery, Delivery) and delivery.outcome == "quarantined"
    assert (
        api.post(f"/api/reviews/{own.held}/reject", json={"reason": "mine"}, headers=scoped.admin).status_code
        == 200
    )


def test_a_limited_person_sees_their_mailboxes_pages_and_not_the_audit_trail(
    scoped: Scoped, desks: dict[str, Arrived]
) -> None:
    browser = login(scoped.app, "bill")
    for page in ("/runs", "/review", "/dead-letters", "/mail"):
        shown = browser.get(page).text
        assert desks["support"].subject not in shown and "support failed" not in shown, page
    assert desks["billing"].subject in browser.get("/runs").text
    assert browser.get(f"/runs/{desks['support'].held}").status_code == 404
    assert browser.get(f"/quarantine/{desks['support'].quarantined}").status_code == 404
    assert browser.get("/audit").status_code == 403
    assert _api(scoped).get("/api/live", headers=scoped.everything).status_code == 200


def test_the_users_file_names_mailboxes_or_none_and_the_cli_knows_only_real_ones(
    tmp_path: Path, swap_runtime: Any
) -> None:
    path = tmp_path / "users.yaml"
    add_token(path, "bot", "viewer", ["billing"])
    assert load_directory(path).tokens[0].mailboxes == ["billing"]
    path.write_text(path.read_text().replace("- billing", "[]").replace("mailboxes:\n  ", "mailboxes: "))
    with pytest.raises(DirectoryError, match="mailboxes"):
        load_directory(path)
    rt = runtime_module.runtime()
    swap_runtime(desks={name: Desk(name, rt.tool_config, None) for name in ("support", "billing")})
    elsewhere = str(tmp_path / "u.yaml")
    for mailbox, accepted in (("billing", True), ("nowhere", False)):
        added = triage(
            "console", "add-token", "x", "--role", "viewer", "--mailbox", mailbox, "--file", elsewhere
        )
        assert (added.exit_code == 0) is accepted, added.output
    assert "no mailbox nowhere; there are billing, support" in added.output
    assert load_directory(Path(elsewhere)).tokens[0].mailboxes == ["billing"]
