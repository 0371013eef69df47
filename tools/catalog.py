"""The catalog: every tool a plan may name. Adding a tool is one module plus one line here."""

from __future__ import annotations

from typing import Any

from tools.base import Tool
from tools.categorize import categorize_ticket
from tools.extract import extract_entities
from tools.jira_issue import comment_jira_issue, create_jira_issue

CATALOG: dict[str, Tool[Any, Any]] = {
    t.name: t
    for t in (
        categorize_ticket,
        extract_entities,
        create_jira_issue,
        comment_jira_issue,
    )
}


def get_tool(name: str) -> Tool[Any, Any]:
    """The tool called `name`; KeyError names the tools that exist."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown tool {name!r}; known tools: {', '.join(sorted(CATALOG))}") from None
