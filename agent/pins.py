"""The arguments of a plan that have one right value, whoever writes the plan: whom a step is about
(pinned to the ticket's own sender, id or message), and what only a finding step may say (the category
from a categorize step, the customer from an extract step). Policy (agent/policy.py) holds every plan
to them; a model is not asked to write them at all (agent/plan_schema.py): they are filled in.
"""

from __future__ import annotations

from typing import Any

from agent.plan import FINDING_TOOLS, REF, Plan, Step

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


def filled(plan: Plan, around: Plan | None = None) -> Plan:
    """The plan with each argument it left out that has one right value filled in: the pinned ones, and
    the category, the urgency and the customer from the categorize and extract steps of `around` (the
    plan these steps extend, if any) or of its own. An argument the plan did give is left for policy to
    judge."""
    every = [*(around.steps if around else []), *plan.steps]
    finder = {step.tool: step.id for step in reversed(every)}  # the first of each tool
    steps = []
    for step in plan.steps:
        wanted: dict[str, Any] = dict(PINNED.get(step.tool, {}))
        wanted |= {
            name: {REF: f"steps.{finder[tool]}.{name}"}
            for name, tool in FOUND.get(step.tool, {}).items()
            if tool in finder
        }
        missing = {name: value for name, value in wanted.items() if name not in step.args}
        steps.append(step.model_copy(update={"args": {**step.args, **missing}}) if missing else step)
    return plan.model_copy(update={"steps": steps})
