"""The sample mailbox through the real pipeline on Redis with the real jira client, Jira answering badly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.support import triage
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration

TICKETS, REPLIES = 9, 2


@pytest.fixture
def jira(pipeline: Pipeline, point_at_jira: Any) -> Iterator[FakeJira]:
    """A Jira Cloud-compatible server whose search finds a new issue only after 0.5 s (Cloud's search
    is eventually consistent), and the worker's tools configured to use it."""
    with running_jira(FakeJira(deployment="Cloud", search_lag_s=0.5)) as server:
        point_at_jira(server, jira_search_lag_s=1.0)
        yield server


def test_one_issue_per_ticket_and_one_comment_per_reply_while_jira_fails_in_every_transient_way(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    jira.fail_next("POST", "/issue", "429", times=2, retry_after=1)
    jira.fail_next("POST", "/issue", "503")
    jira.fail_next("POST", "/issue", "500")
    jira.fail_next("POST", "/issue", "drop_after_write", times=2)
    jira.fail_next("GET", "/search/jql", "503", retry_after=1)
    jira.fail_next("GET", "/search/jql", "drop_after_write")
    jira.fail_next("POST", r"/issue/[A-Z]+-\d+/comment", "drop_after_write")
    jira.fail_next("POST", r"/issue/[A-Z]+-\d+/comment", "429", retry_after=1)

    runs = pipeline.run_variant_mailbox(tmp_path / "box", timeout=90)

    assert [r.status for r in runs] == ["done"] * (TICKETS + REPLIES)
    assert jira.state.faults == []  # every injected failure was met
    issues = list(jira.state.issues.values())
    assert len(issues) == TICKETS
    for run in (r for r in runs if not r.ticket.thread_of):
        [issue] = jira.issues_with_label(f"triage-{run.ticket.id}")
        assert issue["key"] == run.steps["create_issue"].result["issue_key"]
        assert issue["fields"]["project"] == {"key": "SUP"}
        category = run.steps["categorize"].result["category"]
        assert f"category-{category}" in issue["fields"]["labels"]
        assert issue["fields"]["summary"] == f"[{category}] {run.ticket.subject}"
    comments = {key: c for key, c in jira.state.comments.items() if c}
    assert sum(len(c) for c in comments.values()) == REPLIES
    for reply in (r for r in runs if r.ticket.thread_of):
        parent = next(r for r in runs if r.ticket.id == reply.ticket.thread_of)
        [comment] = jira.state.comments[parent.steps["create_issue"].result["issue_key"]]
        assert reply.ticket.body.split("\n")[0] in comment["body"]


def test_permanent_errors_dead_letter_only_their_run_with_jiras_reason(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    jira.fail_next("POST", "/issue", "400", body_contains="Sven Lindqvist")
    runs = pipeline.run_variant_mailbox(tmp_path / "box", timeout=90)
    dead = [r for r in runs if r.status == "dead_letter"]
    assert [r.ticket.sender for r in dead] == ["sven@nordpak.example"]
    assert "Jira rejected the request (400): summary: You must specify a summary of the issue." in (
        dead[0].error or ""
    )
    assert dead[0].id in {r.id for r in pipeline.store.runs.dead_letters()}
    assert len(jira.state.issues) == TICKETS - 1


def test_bad_credentials_dead_letter_with_the_reason_and_create_nothing(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path, swap_runtime: Any
) -> None:
    swap_runtime(tool_config=runtime_module.runtime().tool_config.model_copy(
        update={"jira_api_token": SecretStr("expired-token")}))  # fmt: skip
    runs = pipeline.run_variant_mailbox(tmp_path / "box", timeout=90)
    tickets = [r for r in runs if not r.ticket.thread_of]
    assert all(
        r.status == "dead_letter" and "refused the credentials (401)" in (r.error or "") for r in tickets
    )
    assert all("expired-token" not in (r.error or "") for r in runs)
    assert jira.state.issues == {}


def test_purge_lists_the_senders_jira_issue_and_comment_and_redacts_them_with_jira(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:

    runs = pipeline.run_variant_mailbox(tmp_path / "box", timeout=90)
    reply = next(r for r in runs if r.ticket.thread_of)
    parent = next(r for r in runs if r.ticket.id == reply.ticket.thread_of)
    issue_key = parent.steps["create_issue"].result["issue_key"]
    comment_id = reply.steps["comment"].result["comment_id"]
    sender = parent.ticket.sender
    listed = triage("purge", "--sender", sender)
    assert listed.exit_code == 0, listed.output
    assert f"{issue_key} (issue)" in listed.output and f"{issue_key} (comment {comment_id})" in listed.output
    assert sender in jira.state.issues[issue_key]["fields"]["description"]  # listed, not yet touched
    # The runs are gone now; the Jira places were named. Run again on a fresh copy to redact.
    runs = pipeline.run_variant_mailbox(tmp_path / "again", timeout=90)
    parent = next(r for r in runs if r.ticket.sender == sender and not r.ticket.thread_of)
    issue_key = parent.steps["create_issue"].result["issue_key"]
    redacted = triage("purge", "--sender", sender, "--jira")
    assert redacted.exit_code == 0, redacted.output
    fields = jira.state.issues[issue_key]["fields"]
    assert sender not in fields["description"] and fields["description"].startswith("[redacted on an erasure")
    assert fields["summary"] == f"(redacted) {issue_key}"
    assert all(sender not in c["body"] for c in jira.state.comments[issue_key])
