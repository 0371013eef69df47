"""Threads the way customers write them, through real workers: a new mail that keeps the issue key in its
subject (as the acknowledgement asks) joins its ticket when its sender is the ticket's customer, and gets
no second acknowledgement; a stranger quoting the key, or a key this system never made, gets a ticket of
its own with the reason; a dry-run issue is not commented on once the system writes to a real Jira."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.run import Delivery, Run
from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.smtp_server import SmtpServer
from tests.support import email_bytes, make_maildir

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CUSTOMER = "Ann Lee <ann@example.com>"


def deliver(pipeline: Pipeline, folder: Path, subject: str, sender: str = CUSTOMER) -> Delivery:
    """One new mail with no thread headers, through the real ingest path."""
    raw = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@example.com>",
        subject=subject,
        body="The CSV export is still empty.",
        sender=sender,
    )
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    return delivery


def first_ticket(pipeline: Pipeline, folder: Path) -> tuple[Run, str]:
    """A customer's first ticket, finished, and the issue key it got."""
    delivery = deliver(pipeline, folder, f"Export is empty {uuid.uuid4().hex[:6]}")
    run = pipeline.wait_final(delivery.run_id or "")
    assert run.status == "done", run.error
    return run, run.steps["create_issue"].result["issue_key"]  # type: ignore[index]


@pytest.mark.parametrize(
    "written",
    ["[{key}] Export is empty", "AW: [{key}] Export is empty", "RE: {key} export", "Fwd: re: [{key}]"],
)
def test_a_new_mail_naming_its_issue_in_the_subject_joins_the_ticket_without_a_second_ack(
    pipeline: Pipeline, smtp: SmtpServer, tmp_path: Path, written: str
) -> None:
    ticket, key = first_ticket(pipeline, tmp_path / "first")
    assert len(smtp.messages()) == 1
    follow_up = deliver(pipeline, tmp_path / "again", written.format(key=key), "ANN@example.com")
    assert follow_up.outcome == "threaded"
    assert follow_up.reason == f"reply to ticket {ticket.ticket.id} (by {key} in the subject)"
    reply = pipeline.wait_final(follow_up.run_id or "")
    assert reply.status == "done" and reply.steps["comment"].result["issue_key"] == key  # type: ignore[index]
    assert len(smtp.messages()) == 1  # no second acknowledgement
    assert pipeline.store.runs.with_issue(key) == [ticket.id, reply.id]


def test_a_stranger_quoting_the_key_or_a_key_never_made_gets_a_ticket_of_their_own(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    ticket, key = first_ticket(pipeline, tmp_path / "first")
    stranger = deliver(pipeline, tmp_path / "stranger", f"Re: [{key}] please pay to IBAN", "eve@evil.example")
    assert stranger.outcome == "ticket"
    assert stranger.reason == (
        f"claims to reply to ticket {ticket.ticket.id} (by {key} in the subject) of another customer: "
        "a ticket of its own"
    )
    unknown = deliver(pipeline, tmp_path / "unknown", "Re: [SUP-987654] status?")
    assert unknown.outcome == "ticket" and "SUP-987654, which no ticket of this system opened" in (
        unknown.reason or ""
    )
    lookalike = deliver(pipeline, tmp_path / "lookalike", f"Re: [X{key}] and {key}a")
    assert lookalike.outcome == "ticket" and lookalike.reason is None  # no key of ours in it


def test_a_follow_up_to_a_dry_run_issue_after_switching_to_jira_becomes_a_ticket_saying_why(
    pipeline: Pipeline, point_at_jira: Any, tmp_path: Path
) -> None:
    _, dry_key = first_ticket(pipeline, tmp_path / "dry")
    assert dry_key.startswith("DRY-")
    with running_jira(FakeJira()) as jira:
        project = f"Q{uuid.uuid4().hex[:6].upper()}"  # keys no other test's Jira made in this namespace
        jira.add_project(project)
        point_at_jira(jira, jira_project=project)
        follow_up = deliver(pipeline, tmp_path / "again", f"Re: [{dry_key}] any news?")
        assert follow_up.outcome == "ticket"
        assert f"whose issue {dry_key} was made in dry-run mode and is not in Jira" in (
            follow_up.reason or ""
        )
        run = pipeline.wait_final(follow_up.run_id or "")
        assert run.status == "done" and jira.issues_with_label(f"triage-{run.ticket.id}")

        _, sup_key = first_ticket(pipeline, tmp_path / "jira")
        assert sup_key.startswith(f"{project}-")
        reply = deliver(pipeline, tmp_path / "reply", f"AW: [{sup_key}] any news?")
        assert reply.outcome == "threaded" and pipeline.wait_final(reply.run_id or "").status == "done"
        assert len(jira.state.comments[sup_key]) == 1
