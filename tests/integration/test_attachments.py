"""Attachments through the real pipeline and the real jira client against the Jira test server: the
files that may go arrive once each, under retries and a connection dropped after the upload; the rest
are listed in the description with why; a plan cannot send them to another issue."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.plan import Plan, PlanInvalid, Step
from agent.policy import review_plan
from inbox.parse import parse_message
from tests.conftest import Pipeline
from tests.inbox.test_attachments import mail_with
from tests.jira_server import FakeJira
from tests.support import make_maildir
from tools.catalog import CATALOG
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration


def mail(*files: tuple[str, str, bytes]) -> bytes:
    return mail_with(*files).replace(b"<f@example.com>", f"<{uuid.uuid4().hex}@example.com>".encode())


def test_the_fit_files_arrive_once_each_whatever_fails_and_the_rest_are_listed(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    jira.fail_next("POST", r"/issue/[A-Z]+-\d+/attachments", "drop_after_write")  # uploaded, answer lost
    jira.fail_next("POST", r"/issue/[A-Z]+-\d+/attachments", "503", retry_after=1)
    raw = mail(("report.pdf", "application/pdf", b"%PDF-1.7 report"), ("logs.txt", "text/plain", b"ERROR x"),
               ("setup.exe", "application/octet-stream", b"MZ\x90"))  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    run = pipeline.wait_final(delivery.run_id or "", timeout=60)
    assert run.status == "done" and run.steps["attach"].status == "done" and jira.state.faults == []
    key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    files = jira.state.attachments[key]
    assert sorted((f["filename"], f["content"]) for f in files) == [
        ("logs.txt", b"ERROR x"), ("report.pdf", b"%PDF-1.7 report")]  # fmt: skip
    assert run.steps["attach"].result == {"attached": ["report.pdf", "logs.txt"], "left_out": 1, "dry_run": False,
                                          "skipped": None}  # fmt: skip
    description = jira.state.issues[key]["fields"]["description"]
    assert (
        "- setup.exe (application/octet-stream, 3 bytes): left out: a program or script (by its content)"
        in description
    )
    assert "- report.pdf (application/pdf, 15 bytes): attached" in description


def test_a_mail_without_fit_files_has_no_attach_step(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    [delivery] = pipeline.feed(
        make_maildir(tmp_path / "box", mail(("x.exe", "application/octet-stream", b"MZ")))
    )
    run = pipeline.wait_final(delivery.run_id or "")
    assert run.status == "done" and "attach" not in run.steps


def test_a_plan_that_attaches_to_an_issue_not_its_own_is_refused() -> None:
    ticket = parse_message(mail(("a.pdf", "application/pdf", b"%PDF")), max_bytes=100_000).ticket
    plan = runtime_module.rule_planner(False, False, False).make_plan(ticket).plan
    stolen = Step(id="attach", tool="attach_files", args={"issue_key": {"$ref": "ticket.subject"}})
    bad = Plan(steps=[s for s in plan.steps if s.id != "attach"] + [stolen], rationale="x")
    with pytest.raises(PlanInvalid, match="files go only to this plan's own issue"):
        review_plan(bad, ticket, CATALOG, max_steps=8)
    review_plan(plan, ticket, CATALOG, max_steps=8)


def test_the_files_of_a_reply_go_to_the_issue_of_the_ticket_it_answers(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    first = mail(("report.pdf", "application/pdf", b"%PDF-1.7 first"))
    [delivery] = pipeline.feed(make_maildir(tmp_path / "first", first))
    ticket = pipeline.wait_final(delivery.run_id or "")
    message_id = ticket.ticket.message_id
    reply = mail(("screenshot.png", "image/png", b"\x89PNG\r\n\x1a\n later")).replace(
        b"Subject: files", f"Subject: Re: files\nIn-Reply-To: <{message_id}>".encode()
    )
    [answered] = pipeline.feed(make_maildir(tmp_path / "reply", reply))
    run = pipeline.wait_final(answered.run_id or "")
    assert answered.outcome == "threaded" and run.status == "done" and run.steps["attach"].status == "done"
    key = ticket.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert sorted(f["filename"] for f in jira.state.attachments[key]) == ["report.pdf", "screenshot.png"]


def test_the_size_limits_are_settings_and_hold_at_ingest_and_at_upload(
    pipeline: Pipeline, jira: FakeJira, swap_runtime: Any, tmp_path: Path
) -> None:
    settings = runtime_module.runtime().settings.model_copy(
        update={"attach_max_file_bytes": 2048, "attach_max_ticket_bytes": 3000}  # TRIAGE_ATTACH_MAX_*
    )
    swap_runtime(settings=settings)
    raw = mail(("big.pdf", "application/pdf", b"%PDF-1.7\n" + b"x" * 2100),
               ("small.pdf", "application/pdf", b"%PDF-1.7\n" + b"y" * 1500),
               ("more.pdf", "application/pdf", b"%PDF-1.7\n" + b"z" * 1600))  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    run = pipeline.wait_final(delivery.run_id or "", timeout=30)
    assert [(a.filename, a.refused) for a in run.ticket.attachments] == [
        ("big.pdf", "over 2048 bytes"),
        ("small.pdf", None),
        ("more.pdf", "the ticket's files would pass 3000 bytes"),
    ]
    key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert [a["filename"] for a in jira.state.attachments[key]] == ["small.pdf"]
