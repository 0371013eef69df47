"""The tool catalog as a planning prompt shows it, in as much detail as the prompt's token budget
(TRIAGE_LLM_PROMPT_BUDGET) allows: each argument's schema, or its name and type, or only its name. The
answer's own JSON schema, which a server can enforce, always holds every detail; the prompt only has to
tell a model what each tool is for and what it takes.

With more tools than TRIAGE_PLANNER_MAX_TOOLS, a prompt shows those agent/tool_shortlist.py picks for
the ticket (`Showing`).

Tokens are estimated from characters (a conservative 3 a token for this JSON-heavy text), so a budget
holds whatever tokenizer the endpoint's model uses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from agent.plan_schema import compact_schema, offered_arguments
from agent.tool_shortlist import Shortlist
from inbox.ticket import Ticket
from tools.base import Tool

Detail = Literal["schemas", "types", "names"]
DETAILS: tuple[Detail, ...] = ("schemas", "types", "names")  # the richest first
CHARS_PER_TOKEN = 3.0
SYSTEM_SHARE = 0.6  # of the budget, what the static part may take; the rest is the e-mail's


def estimated_tokens(text: str) -> int:
    """About how many tokens a text costs (rounded up; over, rather than under)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def catalog_for_prompt(catalog: Mapping[str, Tool[Any, Any]], detail: Detail = "schemas") -> dict[str, str]:
    """The parts of a planning prompt that describe the tools: each tool with what a planner may pass it
    (`catalog`), the ticket's fields (`ticket_fields`) and each tool's result fields (`result_fields`)."""
    return {
        "catalog": "\n".join(
            f"- {t.name}: {t.description}\n  {_arguments(t, detail)}" for t in catalog.values()
        ),
        "ticket_fields": ", ".join(Ticket.model_fields),
        "result_fields": "\n".join(
            f"  {t.name}: {', '.join(t.result_model.model_fields)}" for t in catalog.values()
        ),
    }


def _arguments(tool: Tool[Any, Any], detail: Detail) -> str:
    offered = offered_arguments(tool)
    if detail == "schemas":
        return json.dumps({name: compact_schema(prop) for name, prop in offered.items()})
    required = set(tool.args_schema().get("required", []))
    if detail == "names":
        return "arguments: " + ", ".join(n if n in required else f"{n}?" for n in offered)
    return "arguments: " + ", ".join(
        f"{n}{'' if n in required else '?'}: {_type_of(prop)}" for n, prop in offered.items()
    )


def _type_of(prop: dict[str, Any]) -> str:
    """A property's type in a word or two: `string`, `low|medium|high`, `array`."""
    if "enum" in prop:
        return "|".join(str(v) for v in prop["enum"])
    kinds = [p.get("type", "any") for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    return "|".join(str(k) for k in kinds) or "any"


def fitted(render: Callable[[Detail], str], budget_tokens: int) -> tuple[str, Detail]:
    """The richest rendering of a static prompt that takes at most its share of the budget (the plainest
    when none does), and the detail it has."""
    for detail in DETAILS:
        text = render(detail)
        if estimated_tokens(text) <= budget_tokens * SYSTEM_SHARE:
            return text, detail
    return text, DETAILS[-1]


def body_room(budget_tokens: int, static_text: str, least_chars: int = 600) -> int:
    """How many characters of the e-mail's body fit in what the static part leaves of the budget (with
    room for the ticket's other fields and the answer's repairs), never fewer than `least_chars`."""
    left = budget_tokens - estimated_tokens(static_text) - 250
    return max(least_chars, int(left * CHARS_PER_TOKEN))


@dataclass(frozen=True)
class Shown:
    """What one planning prompt offers: its tools, its static text (in `detail`), how much of the e-mail
    fits beside it, and a note when the catalog was cut for the ticket."""

    tools: Mapping[str, Tool[Any, Any]]
    system: str
    detail: Detail
    body_chars: int
    note: str | None = None


class Showing:
    """The static part of a planning prompt for each ticket: the whole catalog, rendered once (a server
    can cache it); or, with a shortlist (a catalog over TRIAGE_PLANNER_MAX_TOOLS), the tools it picks for
    the ticket, rendered for it."""

    def __init__(
        self,
        catalog: Mapping[str, Tool[Any, Any]],
        render: Callable[[Mapping[str, Tool[Any, Any]], Detail], str],
        budget_tokens: int,
        shortlist: Shortlist | None = None,
    ) -> None:
        self.catalog, self.render, self.budget_tokens = catalog, render, budget_tokens
        self.shortlist = shortlist
        self.whole = self._shown(catalog) if shortlist is None else None

    def _shown(self, tools: Mapping[str, Tool[Any, Any]], note: str | None = None) -> Shown:
        system, detail = fitted(partial(self.render, tools), self.budget_tokens)
        return Shown(tools, system, detail, body_room(self.budget_tokens, system), note)

    def for_ticket(self, ticket: Ticket) -> Shown:
        """The prompt's tools and static text for this ticket."""
        if self.whole is not None:
            return self.whole
        assert self.shortlist is not None, "a Showing without a shortlist has the whole catalog"
        tools = self.shortlist.for_ticket(ticket)
        return self._shown(tools, f"shown {len(tools)} of the catalog's {len(self.catalog)} tools")
