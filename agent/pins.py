"""The arguments of a plan that have one right value, whoever writes the plan: whom a step is about
(pinned to the ticket's own sender, id or message), and what only a finding step may say (the category
from a categorize step, the customer from an extract step). Policy (agent/policy.py) holds every plan
to them; a model is not asked to write them at all (agent/plan_schema.py): they are filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.plan import FINDING_TOOLS, REF, Plan, Step
from tools.base import Tool

Catalog = Mapping[str, Tool[Any, Any]]

# The arguments that say whom a step is about, each pinned to its one allowed reference: an
# acknowledgement answers the ticket's own sender about the ticket's own message, an issue, a comment,
# memory and an incident name the ticket's own sender and id. A mail must not talk a model into writing
# another customer's identity (or the subject) where the system keeps who wrote what.
_TICKET_ID, _SENDER = {REF: "ticket.id"}, {REF: "ticket.sender"}
PINNED = {
    "acknowledge": {"to": _SENDER, "message_id": {REF: "ticket.message_id"}},
    "create_jira_issue": {"sender": _SENDER},
    "comment_jira_issue": {"sender": _SENDER},
    "remember_ticket": {"ticket_id": _TICKET_ID, "sender": _SENDER},
    "remember_reply": {"reply_ticket_id": _TICKET_ID, "parent_ticket_id": {REF: "ticket.thread_of"}},
    "link_incident": {"ticket_id": _TICKET_ID, "sender": _SENDER},
}
# Whom a service desk request lets in: only the mail's own Cc (and of it, the tool keeps colleagues).
PINNED_IF_GIVEN = {"create_jira_issue": {"participants": {REF: "ticket.cc"}}}
# What only a finding step may say, by tool and argument: the finding tool whose result of the same name
# it references when given at all. Who the customer is, as the extractor read it; how urgent the mail
# is, as the extractor read it (a model's own reading of other words was wrong where the rules were
# right); what the categorizer found (a subject that reads "billing" is no category). A person editing
# a held run may name a category or an urgency (agent/arguments.literal_by_person); no planner may.
_FINDINGS = {
    "category": "categorize_ticket",
    "urgency": "extract_entities",
    "customer_name": "extract_entities",
    "account_id": "extract_entities",
}
FOUND = {"create_jira_issue": _FINDINGS, "remember_ticket": _FINDINGS}


# The finding steps, as the rules write them: a plan whose issue or memory takes a category or a customer
# gets the one it left out, so that what it opens carries what the rules would have found.
_EVERYTHING = {
    "subject": {REF: "ticket.subject"},
    "body": {REF: "ticket.body"},
    "signature": {REF: "ticket.signature"},
    "sender_name": {REF: "ticket.sender_name"},
}
# Each finding tool, and the tools that take what it finds.
FINDERS = {
    finder: {tool for tool, found in FOUND.items() if finder in found.values()}
    for finder in sorted(FINDING_TOOLS)
}


def pinned(tool: str, catalog: Catalog | None = None) -> dict[str, Any]:
    """The arguments of a tool pinned to the ticket's own: PINNED's, and the sender argument of a
    lookup of the customer by sender (a CRM's, over MCP: it may look up no one else)."""
    found = catalog.get(tool) if catalog is not None else None
    by_sender = {found.sender_argument: _SENDER} if found is not None and found.sender_argument else {}
    return {**PINNED.get(tool, {}), **by_sender}


def finds(tool: str, catalog: Catalog | None) -> frozenset[str]:
    """What a tool of the catalog finds about the customer by looking up the sender (a CRM's lookup)."""
    found = catalog.get(tool) if catalog is not None else None
    return found.finds if found is not None else frozenset()


def lookups(steps: list[Step], catalog: Catalog | None) -> dict[str, str]:
    """Each finding the steps' lookups of the customer by sender make, and the first such step's id."""
    found: dict[str, str] = {}
    for step in steps:
        for name in finds(step.tool, catalog):
            found.setdefault(name, step.id)
    return found


def system_written(tool: str) -> set[str]:
    """The arguments of a tool a model is not asked for: each has one right value, filled in."""
    return {*PINNED.get(tool, {}), *FOUND.get(tool, {})}


def with_findings(plan: Plan) -> Plan:
    """The plan with the categorize and extract steps it left out though a step of it takes what they
    find (a model's plan opened issues without a customer), first, as the rules write them."""
    tools = {step.tool for step in plan.steps}
    missing = [
        Step(id=finder, tool=finder, args=dict(_EVERYTHING))
        for finder, takers in FINDERS.items()
        if finder not in tools and tools & takers
    ]
    if not missing:
        return plan
    added = ", ".join(step.tool for step in missing)
    return plan.model_copy(
        update={"steps": [*missing, *plan.steps], "rationale": f"{plan.rationale} ({added} added)"}
    )


def filled(plan: Plan, around: Plan | None = None, catalog: Catalog | None = None) -> Plan:
    """The plan with each argument it left out that has one right value filled in: the pinned ones, and
    the category, the urgency and the customer from the categorize and extract steps of `around` (the
    plan these steps extend, if any) or of its own. A lookup of the customer by sender in the `catalog`
    (a CRM's) beats the extract step's reading of the mail for what it finds: it takes that finding's
    place where the extract step's was filled in. An argument the plan did give is left for policy to
    judge."""
    every = [*(around.steps if around else []), *plan.steps]
    finder = {step.tool: step.id for step in reversed(every)}  # the first of each tool
    looked_up = lookups(every, catalog)
    steps = []
    for step in plan.steps:
        wanted: dict[str, Any] = pinned(step.tool, catalog)
        wanted |= {
            name: {REF: f"steps.{finder[tool]}.{name}"}
            for name, tool in FOUND.get(step.tool, {}).items()
            if tool in finder
        }
        lookup = {  # where the extract step's reading would be, or is, the lookup's finding
            name: {REF: f"steps.{looked_up[name]}.{name}"}
            for name in FOUND.get(step.tool, {})
            if name in looked_up and step.args.get(name, wanted.get(name)) == wanted.get(name)
        }
        missing = {name: value for name, value in wanted.items() if name not in step.args}
        update = {**step.args, **missing, **lookup}
        steps.append(step.model_copy(update={"args": update}) if update != step.args else step)
    return plan.model_copy(update={"steps": steps})
