"""Drafted answers through the real pipeline: memory in an embedded Chroma folder, the sample knowledge
base, the real jira client against the Jira test server. A ticket the knowledge base answers gets one
internal comment (seen by the configured role only) that cites its article, whatever fails; a ticket it
does not answer gets none, and its step says why."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.memory.kb import KnowledgeBase
from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.support import ROOT, email_bytes, make_maildir
from workers import runtime as runtime_module

pytestmark = pytest.mark.integration


@pytest.fixture
def jira(pipeline: Pipeline, swap_runtime: Any, point_at_jira: Any, tmp_path: Path) -> Iterator[FakeJira]:
    shutil.copytree(ROOT / "examples" / "kb", tmp_path / "kb")
    memory = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", path=tmp_path / "memory")
    kb = KnowledgeBase(memory, tmp_path / "kb")
    with running_jira(FakeJira()) as server:
        point_at_jira(server)
        swap_runtime(memory=memory, kb=kb, planner=runtime_module.rule_planner(True, False, True, True))
        yield server


def send(pipeline: Pipeline, folder: Path, subject: str, body: str) -> Any:
    raw = email_bytes(subject=subject, body=body, message_id=f"<{uuid.uuid4().hex}@example.com>",
                      sender=f"c{uuid.uuid4().hex[:6]}@customer.example")  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    return pipeline.wait_final(delivery.run_id or "", timeout=60)


def test_a_ticket_the_knowledge_base_answers_gets_one_internal_draft_citing_its_article(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    jira.fail_next("POST", r"/issue/[A-Z]+-\d+/comment", "drop_after_write")  # posted, answer lost
    run = send(pipeline, tmp_path / "a", "Password reset email never arrives",
               "Hi, I asked for a password reset twice but the reset email never arrives.")  # fmt: skip
    assert run.status == "done" and run.steps["draft"].result["drafted"] is True  # type: ignore[index]
    key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    [draft] = jira.state.comments[key]
    assert draft["visibility"] == {"type": "role", "value": "Administrators"}
    assert "Reset emails are sent from no-reply@example.com" in draft["body"]
    assert "password-reset.md" in draft["body"] and jira.state.faults == []
    assert any(s.endswith("password-reset.md") for s in run.steps["draft"].result["sources"])  # type: ignore[index]


def test_a_ticket_it_does_not_answer_gets_no_draft_and_says_why(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    run = send(pipeline, tmp_path / "b", "Thank you!", "Just wanted to say your team did a great job.")
    result = run.steps["draft"].result or {}
    assert (
        run.status == "done" and result["drafted"] is False and "no article close enough" in result["skipped"]
    )
    key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert jira.state.comments.get(key, []) == []
