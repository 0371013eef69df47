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


def overrides(outcome: str) -> float:
    return REGISTRY.get_sample_value("triage_correction_overrides_total", {"outcome": outcome}) or 0.0


def relabel(jira: FakeJira, run: Run, category: str, **fields: Any) -> None:
    """A person on the desk gives the run's issue another category (and other fields) in Jira."""
    key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    labels = [x for x in jira.state.issues[key]["fields"]["labels"] if not x.startswith("category-")]
    jira.edit_as_person(key, labels=[*labels, f"category-{category}"], **fields)


def test_a_category_people_correct_in_jira_is_the_category_of_the_next_like_ticket(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    first = triage(pipeline, tmp_path / "1", "Delete my personal data (GDPR)",
                   "Please erase all personal data you hold about me under GDPR article 17.",
                   "ann@example.com")  # fmt: skip
    made = first.steps["categorize"].result["category"]  # type: ignore[index]
    assert made != "legal"

    # A person on the desk: this is a legal matter, and urgent.
    before = corrections("category"), corrections("urgency")
    flagged, applied = overrides("flagged"), overrides("applied")
    relabel(jira, first, "legal", priority={"name": "High"})
    assert read_back_corrections() == {"issues": 1, "corrections": 2}
    assert (corrections("category"), corrections("urgency")) == (before[0] + 1, before[1] + 1)
    assert read_back_corrections()["corrections"] == 0  # read again: nothing new

    # One person's relabel, which the classifier does not support, does not steer like tickets by itself:
    # the next one keeps the classifier's category and waits for a person's look.
    second = triage(pipeline, tmp_path / "2", "GDPR: delete personal data",
                    "Under GDPR please erase the personal data you hold about our account.",
                    "bo@example.com")  # fmt: skip
    assert second.recall is not None and second.recall.corrections[0].ticket_id == first.ticket.id
    doubted = second.steps["categorize"].result or {}
    assert doubted["category"] != "legal" and doubted["needs_review"] and doubted["correction"] == "flagged"
    assert f"like ticket {first.ticket.id} the category legal" in doubted["source"]

    # Another like ticket corrected to it too: the next like ticket is legal.
    relabel(jira, second, "legal")
    assert read_back_corrections()["corrections"] == 1
    third = triage(
        pipeline,
        tmp_path / "3",
        "Erase my personal data please (GDPR)",
        "Please delete the personal data you hold about me, as GDPR requires.",
        "cy@example.com",
    )
    categorized = third.steps["categorize"].result
    assert categorized is not None and categorized["category"] == "legal"
    assert categorized["source"].startswith("correction") and categorized["correction"] == "applied"
    third_key = third.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    assert "category-legal" in jira.state.issues[third_key]["fields"]["labels"]
    assert (overrides("flagged"), overrides("applied")) == (flagged + 1, applied + 1)

    other = triage(
        pipeline, tmp_path / "4", "Charged twice", "You charged my card twice this month.", "cy@example.com"
    )
    assert other.steps["categorize"].result["category"] == "billing"  # type: ignore[index]
