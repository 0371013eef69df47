"""The correction stream: tickets flow, a person changes a category in Jira, the read-back runs, and the
next like ticket comes out with the person's category; a real worker, Redis, Chroma server and the real
jira client against the Jira test server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.planner import RulePlanner
from agent.run import Run
from tasks.sync import read_back_corrections
from tests.chroma_server import ChromaServer
from tests.conftest import Pipeline
from tests.jira_server import FakeJira, running_jira
from tests.support import email_bytes, make_maildir

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def jira(
    pipeline: Pipeline, swap_runtime: Any, point_at_jira: Any, chroma: ChromaServer
) -> Iterator[FakeJira]:
    """A Jira the worker's tools use, and a memory on a Chroma server of the test's own."""
    with running_jira(FakeJira()) as server:
        point_at_jira(server)
        memory = Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", url=chroma.url)
        swap_runtime(memory=memory, planner=RulePlanner(remember=True))
        pipeline.store.mailboxes.save_read_back_cursor(0)  # this Jira is new: read it all
        yield server


def triage(pipeline: Pipeline, folder: Path, subject: str, body: str, sender: str) -> Run:
    raw = email_bytes(
        message_id=f"<{uuid.uuid4().hex}@example.com>", subject=subject, body=body, sender=sender
    )
    [delivery] = pipeline.feed(make_maildir(folder, raw))
    assert delivery.run_id is not None
    return pipeline.wait_final(delivery.run_id, timeout=60)


def corrections(field: str) -> float:
    return REGISTRY.get_sample_value("triage_corrections_total", {"field": field}) or 0.0


def test_a_category_a_person_corrects_in_jira_is_the_category_of_the_next_like_ticket(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    first = triage(pipeline, tmp_path / "1", "Delete my personal data (GDPR)",
                   "Please erase all personal data you hold about me under GDPR article 17.",
                   "ann@example.com")  # fmt: skip
    made = first.steps["categorize"].result["category"]  # type: ignore[index]
    assert made != "legal"
    key = first.steps["create_issue"].result["issue_key"]  # type: ignore[index]

    # A person on the desk: this is a legal matter, and urgent.
    labels = [x for x in jira.state.issues[key]["fields"]["labels"] if not x.startswith("category-")]
    before = corrections("category"), corrections("urgency")
    jira.edit_as_person(key, labels=[*labels, "category-legal"], priority={"name": "High"})
    assert read_back_corrections() == {"issues": 1, "corrections": 2}
    assert (corrections("category"), corrections("urgency")) == (before[0] + 1, before[1] + 1)
    assert read_back_corrections()["corrections"] == 0  # read again: nothing new

    second = triage(pipeline, tmp_path / "2", "GDPR: delete personal data",
                    "Under GDPR please erase the personal data you hold about our account.",
                    "bo@example.com")  # fmt: skip
    categorized = second.steps["categorize"].result
    assert categorized is not None and categorized["category"] == "legal"
    assert categorized["source"].startswith("correction") and first.ticket.id in categorized["source"]
    assert second.recall is not None and second.recall.corrections[0].ticket_id == first.ticket.id
    second_key = second.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert "category-legal" in jira.state.issues[second_key]["fields"]["labels"]

    other = triage(pipeline, tmp_path / "3", "Charged twice", "You charged my card twice this month.",
                   "cy@example.com")  # fmt: skip
    assert other.steps["categorize"].result["category"] == "billing"  # type: ignore[index]
