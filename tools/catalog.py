"""The catalog: every tool a plan may name. Adding a tool is one module plus one line here.

CATALOG holds the tools as built; a worker uses its runtime's copy, with TRIAGE_TOOL_TIMEOUTS applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tools.acknowledge import acknowledge
from tools.attach import attach_files
from tools.base import Tool
from tools.categorize import categorize_ticket
from tools.draft import draft_reply
from tools.extract import extract_entities
from tools.incident import link_incident
from tools.jira_comment import comment_jira_issue
from tools.jira_issue import create_jira_issue
from tools.remember import remember_reply, remember_ticket

CATALOG: dict[str, Tool[Any, Any]] = {
    t.name: t
    for t in (
        categorize_ticket,
        extract_entities,
        create_jira_issue,
        comment_jira_issue,
        remember_ticket,
        remember_reply,
        link_incident,
        acknowledge,
        attach_files,
        draft_reply,
    )
}


def with_timeouts(timeouts: Mapping[str, float]) -> dict[str, Tool[Any, Any]]:
    """A copy of the catalog in which the named tools have these timeouts (TRIAGE_TOOL_TIMEOUTS)."""
    for name, timeout_s in timeouts.items():
        if name not in CATALOG or timeout_s <= 0:
            raise ValueError(
                f"{name!r} needs a known tool ({', '.join(sorted(CATALOG))}) and a positive timeout"
            )
    return {name: replace(t, timeout_s=timeouts.get(name, t.timeout_s)) for name, t in CATALOG.items()}


def get_tool(catalog: Mapping[str, Tool[Any, Any]], name: str) -> Tool[Any, Any]:
    """The tool called `name`; KeyError names the tools that exist."""
    try:
        return catalog[name]
    except KeyError:
        raise KeyError(f"unknown tool {name!r}; known tools: {', '.join(sorted(catalog))}") from None
