"""The arguments of a plan that have one right value, whoever writes the plan: whom a step is about
(pinned to the ticket's own sender, id or message), and what only a finding step may say (the category
from a categorize step, the customer from an extract step). Policy (agent/policy.py) holds every plan
to them; a model is not asked to write them at all (agent/plan_schema.py): they are filled in.
"""

from __future__ import annotations

from typing import Any

from agent.plan import REF, Plan, Step

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
# Who the customer is, as the extractor read it: given at all, only from an extract step's result.
FOUND_BY_EXTRACTOR = {
    "create_jira_issue": ("customer_name", "account_id"),
    "remember_ticket": ("customer_name", "account_id"),
}
# What the categorizer found: a category a plan gives by reference, only from a categorize step's result
# (a subject that reads "billing" is no category; a person may name one, agent/arguments.literal_by_person).
FOUND_BY_CATEGORIZER = {"create_jira_issue": "category", "remember_ticket": "category"}


# The finding steps, as the rules write them: a plan whose issue or memory takes a category or a customer
# gets the one it left out, so that what it opens carries what the rules would have found.
_EVERYTHING = {
    "subject": {REF: "ticket.subject"},
    "body": {REF: "ticket.body"},
    "signature": {REF: "ticket.signature"},
    "sender_name": {REF: "ticket.sender_name"},
}
# Each finding tool, and the tools that take what it finds.
FINDERS = {"categorize_ticket": set(FOUND_BY_CATEGORIZER), "extract_entities": set(FOUND_BY_EXTRACTOR)}


def system_written(tool: str) -> set[str]:
    """The arguments of a tool a model is not asked for: each has one right value, filled in."""
    return {
        *PINNED.get(tool, {}),
        *FOUND_BY_EXTRACTOR.get(tool, ()),
        *([FOUND_BY_CATEGORIZER[tool]] if tool in FOUND_BY_CATEGORIZER else []),
    }


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
    the category and the customer from the categorize and extract steps of `around` (the plan these
    steps extend, if any) or of its own. An argument the plan did give is left for policy to judge."""
    every = [*(around.steps if around else []), *plan.steps]
    finder = {step.tool: step.id for step in reversed(every)}  # the first of each tool
    steps = []
    for step in plan.steps:
        wanted: dict[str, Any] = dict(PINNED.get(step.tool, {}))
        if "extract_entities" in finder:
            extract = finder["extract_entities"]
            wanted |= {
                name: {REF: f"steps.{extract}.{name}"} for name in FOUND_BY_EXTRACTOR.get(step.tool, ())
            }
        if "categorize_ticket" in finder and step.tool in FOUND_BY_CATEGORIZER:
            wanted[FOUND_BY_CATEGORIZER[step.tool]] = {REF: f"steps.{finder['categorize_ticket']}.category"}
        missing = {name: value for name, value in wanted.items() if name not in step.args}
        steps.append(step.model_copy(update={"args": {**step.args, **missing}}) if missing else step)
    return plan.model_copy(update={"steps": steps})
