"""Memory in the pipeline: each ticket is remembered by a step and recalled when the next is planned; a
memory that does not answer costs the run its memory, never the ticket."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.planner import RulePlanner
from agent.run import Run
from tasks.sweep import sweep_runs
from tests.chroma_server import ChromaServer
from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir
from tests.support import triage as triage_command
from tools.memory_port import Remembered

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def memory(chroma: ChromaServer, swap_runtime: Any) -> Memory:
    """The worker's memory: a fresh collection on the Chroma server, and the plan's remember step."""
    remembering = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", url=chroma.url)
    swap_runtime(memory=remembering, planner=RulePlanner(remember=True, incidents=True))
    return remembering


def triage(pipeline: Pipeline, folder: Path, subject: str, body: str) -> Run:
    raw = email_bytes(message_id=f"<{uuid.uuid4().hex}@example.com>", subject=subject, body=body,
                      sender="Ann Lee <ann@example.com>")  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    assert delivery.run_id is not None
    return pipeline.wait_final(delivery.run_id, timeout=60)


def test_a_ticket_is_remembered_and_recalled_for_the_next_one(
    pipeline: Pipeline, memory: Memory, tmp_path: Path
) -> None:
    first = triage(pipeline, tmp_path / "one", "Export is empty", "The CSV export gives an empty file.")
    assert first.status == "done" and first.steps["remember"].status == "done"
    assert first.recall is not None and first.recall.similar == [] and first.recall.history == []
    assert memory.count() == 1

    second = triage(pipeline, tmp_path / "two", "CSV export still empty", "Our CSV export is empty again.")
    assert second.recall is not None and second.recall.error is None
    [neighbour] = second.recall.similar
    issue_key = first.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert neighbour.ticket_id == first.ticket.id and neighbour.issue_key == issue_key
    assert neighbour.category == first.steps["categorize"].result["category"]  # type: ignore[index]
    assert [c.ticket_id for c in second.recall.history] == [first.ticket.id]

    shown = triage_command("show", second.id)
    assert (
        shown.exit_code == 0
        and first.ticket.id in json.loads(shown.output)["recall"]["similar"][0]["ticket_id"]
    )
    erased = triage_command("purge", "--sender", "ann@example.com")
    assert erased.exit_code == 0 and "2 memory entries" in erased.output, erased.output
    assert memory.count() == 0


def test_a_reply_is_counted_on_the_ticket_it_answers_and_shows_in_the_customers_history(
    pipeline: Pipeline, memory: Memory, tmp_path: Path
) -> None:
    first = triage(pipeline, tmp_path / "one", "Export is empty", "The CSV export gives an empty file.")
    reply_id = f"<{uuid.uuid4().hex}@example.com>"
    raw = email_bytes(message_id=reply_id, subject="Re: Export is empty", body="Any news? Still empty.",
                      sender="Ann Lee <ann@example.com>",
                      headers={"In-Reply-To": f"<{first.ticket.message_id.strip('<>')}>"})  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(tmp_path / "reply", raw))
    reply = pipeline.wait_final(str(delivery.run_id), timeout=60)
    assert reply.ticket.thread_of == first.ticket.id and reply.steps["comment"].status == "done"
    assert reply.steps["remember_reply"].result == {"counted": True}
    third = triage(pipeline, tmp_path / "three", "Another question", "How do I add a seat?")
    assert third.recall is not None
    assert [(c.ticket_id, c.replies) for c in third.recall.history] == [(first.ticket.id, 1)]


def test_without_its_memory_a_run_still_ends_and_says_what_it_missed(
    pipeline: Pipeline, memory: Memory, chroma: ChromaServer, tmp_path: Path
) -> None:
    chroma.stop()
    run = triage(pipeline, tmp_path / "down", "Cannot log in", "The password reset mail never arrives.")
    assert run.status == "done" and run.steps["create_issue"].status == "done"
    assert run.recall is not None and run.recall.error is not None
    assert "planned without memory after 3 attempts" in run.recall.error
    remember = run.steps["remember"]
    assert remember.status == "skipped" and remember.attempts == 3
    assert remember.error is not None and "went on without it" in remember.error
    incident = run.steps["incident"]  # no memory of the ticket, so no incident to judge: said, not retried
    assert incident.status == "skipped" and incident.attempts == 1
    assert incident.error is not None and "not in memory" in incident.error


def test_memory_entries_expire_with_the_retention(pipeline: Pipeline, memory: Memory) -> None:
    handled = datetime.now(UTC) - timedelta(seconds=pipeline.settings.retention_s + 60)
    old = Remembered(ticket_id="Told", subject="Old", body="old news", sender="ann@example.com",
                     received_at=handled, seen_at=handled)  # fmt: skip
    memory.remember(old)
    memory.remember(old.model_copy(update={"ticket_id": "Tnew", "seen_at": datetime.now(UTC)}))
    assert sweep_runs()["expired_memory_entries"] == 1
    assert memory.count() == 1
