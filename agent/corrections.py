"""People's corrections: what changed in the Jira issues this system made, compared with what it set.

The read-back (tasks/sync.py) hands over the issues that changed lately; for each issue this system made
(its ticket's ledger record names it, with the category and urgency it was given), the category (label
`category-<name>`, or a component mapped back through TRIAGE_JIRA_COMPONENTS) and the urgency (priority
mapped back through TRIAGE_JIRA_PRIORITIES) are compared with what the system set, and memory keeps
what a person changed. The categorizer then prefers those corrections for like tickets (recall).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from tools import ledger_keys
from tools.base import ToolConfig
from tools.jira_client import IssueState
from tools.jira_issue import idempotency_label
from tools.ledger_port import Ledger

FIELDS = ("category", "urgency")
_CATEGORY = re.compile(r"^category-([A-Za-z0-9_-]{1,40})$")
_TICKET_LABEL = idempotency_label("")  # "triage-": the label that names an issue's ticket


@dataclass(frozen=True)
class Corrected:
    """A person changed a field of an issue this system made."""

    ticket_id: str
    issue_key: str
    field: str  # category | urgency
    was: str  # what this system set
    now: str  # what the person set


class CorrectionMemory(Protocol):
    """Where corrections are kept (agent/memory/chroma.Memory)."""

    def corrections_of(self, ticket_id: str) -> dict[str, str] | None:
        """The corrections recorded for a ticket, or None when memory does not have it."""
        ...

    def note_corrections(self, ticket_id: str, corrections: dict[str, str]) -> None:
        """Record what a person set ("" clears a field's correction)."""
        ...


def read_back(
    issues: list[IssueState], ledger: Ledger, memory: CorrectionMemory, config: ToolConfig
) -> list[Corrected]:
    """Record in memory what people changed in these issues; return the corrections that are new (a
    field changed again counts again; one put back as this system set it clears its correction)."""
    found: list[Corrected] = []
    for issue in issues:
        ticket_id, made = _made_by_us(issue, ledger)
        if ticket_id is None or made is None:
            continue
        known = memory.corrections_of(ticket_id)
        if known is None:  # not in memory (expired, erased): nothing to teach
            continue
        now = {"category": _category(issue, config, made["category"]), "urgency": _urgency(issue, config)}
        changes: dict[str, str] = {}
        for name in FIELDS:
            shown = now[name]
            value = shown if shown is not None and shown != made.get(name) else ""
            if value != known.get(name, ""):
                changes[name] = value
                if value:
                    found.append(Corrected(ticket_id, issue.key, name, str(made.get(name)), value))
        if changes:
            memory.note_corrections(ticket_id, changes)
    return found


def _made_by_us(issue: IssueState, ledger: Ledger) -> tuple[str | None, dict[str, str] | None]:
    """The ticket whose issue this is, by its idempotency label and the ledger record naming the issue."""
    for label in issue.labels:
        if label.startswith(_TICKET_LABEL):
            ticket_id = label.removeprefix(_TICKET_LABEL)
            made = ledger.get(ledger_keys.jira_issue(ticket_id))
            if made is not None and made.get("issue_key") == issue.key and "category" in made:
                return ticket_id, {k: str(v) for k, v in made.items()}
    return None, None


def _category(issue: IssueState, config: ToolConfig, was: str) -> str | None:
    """The category the issue shows: one other than the one set, by a `category-` label or a component
    mapped back (people change either); else the one set, if it still shows; None when none shows (a
    label removed is no correction)."""
    by_component = {component: category for category, component in config.jira_components.items()}
    shown = [m.group(1) for label in issue.labels if (m := _CATEGORY.match(label))]
    shown += [by_component[c] for c in issue.components if c in by_component]
    return next((c for c in shown if c != was), was if was in shown else None)


def _urgency(issue: IssueState, config: ToolConfig) -> str | None:
    """The urgency the issue's priority stands for (TRIAGE_JIRA_PRIORITIES read backwards), or None."""
    by_priority = {priority: urgency for urgency, priority in config.jira_priorities.items()}
    return by_priority.get(issue.priority) if issue.priority is not None else None
