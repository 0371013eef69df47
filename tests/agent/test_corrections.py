"""Reading people's corrections back: what a person changed in an issue this system made is kept in
memory (and only that), on the real ledger (Redis) and a real memory (an embedded Chroma folder)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.corrections import Corrected, read_back
from agent.memory.chroma import Memory
from agent.memory.embedding import HashedNgrams
from agent.store import RunStore
from tools import ledger_keys
from tools.base import ToolConfig
from tools.jira_client import IssueState
from tools.memory_port import Remembered
from workers.settings import load_settings

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("memory")  # one embedded Chroma per process: shared by the module


@pytest.fixture
def memory(folder: Path) -> Memory:
    return Memory(HashedNgrams(), f"test-{uuid.uuid4().hex[:8]}", path=folder)


@pytest.fixture
def config() -> ToolConfig:
    return load_settings(jira_components={"billing": "Billing", "technical": "Platform"}).tool_config()


def made(store: RunStore, memory: Memory, ticket: str, key: str, category: str = "technical",
         urgency: str = "medium") -> None:  # fmt: skip
    """A ticket whose issue this system made (the ledger says how) and that memory holds."""
    store.ledger.claim(
        ledger_keys.jira_issue(ticket), {"issue_key": key, "category": category, "urgency": urgency}
    )
    memory.remember(Remembered(ticket_id=ticket, subject="Export empty", body="The CSV export is empty.",
                               sender="ann@example.com", received_at=AT, seen_at=AT, category=category))  # fmt: skip


def issue(
    key: str, ticket: str, *labels: str, components: tuple[str, ...] = (), priority: str = "Medium"
) -> IssueState:
    return IssueState(key=key, labels=("triage", f"triage-{ticket}", *labels), components=components,
                      priority=priority, updated=AT)  # fmt: skip


def test_a_category_label_and_a_priority_a_person_changed_are_kept_as_corrections(
    store: RunStore, memory: Memory, config: ToolConfig
) -> None:
    made(store, memory, "T1", "SUP-1")
    found = read_back(
        [issue("SUP-1", "T1", "category-billing", priority="High")], store.ledger, memory, config
    )
    assert found == [Corrected("T1", "SUP-1", "category", "technical", "billing"),
                     Corrected("T1", "SUP-1", "urgency", "medium", "high")]  # fmt: skip
    assert memory.corrections_of("T1") == {"category": "billing", "urgency": "high"}
    # Read back again (the issue changed for another reason): nothing new.
    assert (
        read_back([issue("SUP-1", "T1", "category-billing", priority="High")], store.ledger, memory, config)
        == []
    )


def test_a_component_counts_as_the_category_it_stands_for(
    store: RunStore, memory: Memory, config: ToolConfig
) -> None:
    made(store, memory, "T1", "SUP-1")
    # The person left the old label and picked the Billing component: the component tells.
    found = read_back([issue("SUP-1", "T1", "category-technical", components=("Billing",))], store.ledger, memory,
                      config)  # fmt: skip
    assert [(c.field, c.now) for c in found] == [("category", "billing")]


def test_an_issue_as_this_system_made_it_or_put_back_teaches_nothing(
    store: RunStore, memory: Memory, config: ToolConfig
) -> None:
    made(store, memory, "T1", "SUP-1")
    assert read_back([issue("SUP-1", "T1", "category-technical")], store.ledger, memory, config) == []
    read_back([issue("SUP-1", "T1", "category-billing")], store.ledger, memory, config)
    assert read_back([issue("SUP-1", "T1", "category-technical")], store.ledger, memory, config) == []
    assert memory.corrections_of("T1") == {}  # put back: the correction is gone
    # A label removed, a priority this configuration does not map: no correction either.
    assert read_back([issue("SUP-1", "T1", priority="Highest")], store.ledger, memory, config) == []


def test_issues_this_system_did_not_make_or_no_longer_remembers_are_left_alone(
    store: RunStore, memory: Memory, config: ToolConfig
) -> None:
    made(store, memory, "T1", "SUP-1")
    store.ledger.claim(
        ledger_keys.jira_issue("T2"), {"issue_key": "SUP-2", "category": "technical", "urgency": "low"}
    )
    issues = [
        issue("SUP-9", "T1", "category-billing"),  # carries T1's label but is not T1's issue
        issue("SUP-2", "T2", "category-billing"),  # T2 is not in memory (expired, erased)
        IssueState(
            key="SUP-3", labels=("triage", "category-billing"), components=(), priority="Low", updated=AT
        ),
    ]
    assert read_back(issues, store.ledger, memory, config) == []
    assert memory.corrections_of("T1") == {} and memory.corrections_of("T2") is None
