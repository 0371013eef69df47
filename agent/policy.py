"""Plan policy: what any plan must respect, whoever wrote it (rules or a model).

Schema validation says a plan is well-formed; policy says it is allowed. An e-mail that talks a model
into commenting on another customer's issue, or into opening three issues, is stopped here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from agent.arguments import literal_by_person, person_only
from agent.pins import FOUND, PINNED_IF_GIVEN, finds, pinned
from agent.plan import FINDING_TOOLS, REF, Plan, PlanInvalid, is_ref, validate_plan
from inbox.ticket import Ticket
from tools.base import Tool

# The tools whose `issue_key` names the issue they write to (or, for an acknowledgement, the reference a
# customer is given): only this plan's own issue, never a key a mail or a model chose (a subject that
# reads "SUP-1" would otherwise put a draft, files or an incident link on another customer's issue).
_OWN_ISSUE = {
    "attach_files": "files go",
    "draft_reply": "drafts go",
    "link_incident": "incident links go",
    "acknowledge": "acknowledgements refer",
}


def allowed_tools(ticket: Ticket, catalog: Mapping[str, Tool[Any, Any]]) -> list[str]:
    """The tools a plan for this ticket may use: a reply comments (and is counted on its thread), a new
    ticket creates (and may be acknowledged)."""
    new_only, reply_only = {"create_jira_issue", "acknowledge"}, {"comment_jira_issue", "remember_reply"}
    forbidden = new_only if ticket.thread_of else reply_only
    return [name for name in catalog if name not in forbidden]


def policy_errors(
    plan: Plan, ticket: Ticket, catalog: Mapping[str, Tool[Any, Any]] | None = None
) -> list[str]:
    """Why this (well-formed) plan is not allowed for this ticket; empty when it is."""
    tools = Counter(step.tool for step in plan.steps)
    errors = []
    if ticket.thread_of:
        if tools["comment_jira_issue"] != 1 or tools["create_jira_issue"]:
            errors.append("a reply must add exactly one comment (comment_jira_issue) and create no issue")
        for step in plan.steps:
            parent = step.args.get("parent_ticket_id") if step.tool == "comment_jira_issue" else None
            if parent is not None and parent not in ({REF: "ticket.thread_of"}, ticket.thread_of):
                errors.append(
                    f"step {step.id!r}: a reply may only comment on its own thread (ticket.thread_of)"
                )
    elif tools["create_jira_issue"] != 1 or tools["comment_jira_issue"]:
        errors.append("a new ticket must create exactly one issue (create_jira_issue) and comment on none")
    if tools["acknowledge"] > (0 if ticket.thread_of else 1):
        errors.append("only a new ticket is acknowledged, once")
    return errors + _identity_errors(plan, catalog)


def _identity_errors(plan: Plan, catalog: Mapping[str, Tool[Any, Any]] | None) -> list[str]:
    """Why a step names an issue, a ticket, a sender or a customer other than this plan's own."""
    issue_steps = {s.id for s in plan.steps if s.tool in ("create_jira_issue", "comment_jira_issue")}
    steps_of = {tool: [s.id for s in plan.steps if s.tool == tool] for tool in FINDING_TOOLS}
    looked_up = {
        name: [s.id for s in plan.steps if name in finds(s.tool, catalog)]
        for name in {n for found in FOUND.values() for n in found}
    }
    errors = []
    for step in plan.steps:
        target = step.args.get("issue_key") if step.tool in _OWN_ISSUE else None
        if target is not None and target not in [{REF: f"steps.{sid}.issue_key"} for sid in issue_steps]:
            errors.append(
                f"step {step.id!r}: {_OWN_ISSUE[step.tool]} only to this plan's own issue "
                "(steps.<its step>.issue_key)"
            )
        for name, wanted in pinned(step.tool, catalog).items():
            if step.args.get(name) != wanted:
                errors.append(f"step {step.id!r}: {name} must be {wanted} (the ticket's own)")
        for name, wanted in PINNED_IF_GIVEN.get(step.tool, {}).items():
            if name in step.args and step.args[name] != wanted:
                errors.append(f"step {step.id!r}: {name} may only be {wanted} (the ticket's own)")
        for name, finder in FOUND.get(step.tool, {}).items():
            allowed = [{REF: f"steps.{sid}.{name}"} for sid in [*steps_of[finder], *looked_up[name]]]
            if is_ref(step.args.get(name)) and step.args[name] not in allowed:
                step_of = f"{'an' if finder[0] in 'aeiou' else 'a'} {finder} step"
                errors.append(f"step {step.id!r}: {name} may only be steps.<{step_of}>.{name}")
    return errors


def person_only_errors(plan: Plan, catalog: Mapping[str, Tool[Any, Any]]) -> list[str]:
    """The arguments a planner set that only a person may (agent/arguments.py: person_only), and the
    literal values a planner wrote where only a person may (literal_by_person)."""
    errors = []
    for step in plan.steps:
        fields = catalog[step.tool].args_model.model_fields if step.tool in catalog else {}
        for name, info in fields.items():
            value = step.args.get(name)
            if person_only(info) and value not in (None, []):
                errors.append(f"step {step.id!r}: {name} is set only by a person approving a held run")
            elif literal_by_person(info) and value is not None and not is_ref(value):
                said = f"{name} must reference the step that finds it; only a person names one"
                errors.append(f"step {step.id!r}: {said}")
    return errors


def review_plan(
    plan: Plan,
    ticket: Ticket,
    catalog: Mapping[str, Tool[Any, Any]],
    *,
    max_steps: int,
    by_person: bool = False,
) -> None:
    """Validate a plan and check it against policy; raise PlanInvalid listing every problem. A plan a
    person edited (`by_person`) may set the arguments only a person may."""
    validate_plan(plan, catalog, max_steps=max_steps)
    errors = policy_errors(plan, ticket, catalog) + ([] if by_person else person_only_errors(plan, catalog))
    if errors:
        raise PlanInvalid(errors)


def review_extension(
    plan: Plan, added: Plan, ticket: Ticket, catalog: Mapping[str, Tool[Any, Any]], *, max_steps: int
) -> None:
    """Validate steps a planner wants to append to a plan that has run, judged as the whole plan they
    make (ids unique, references to earlier steps, policy, the step count); raise PlanInvalid listing
    every problem. Only the added steps are held to what a planner may not set: the plan may carry a
    person's edit."""
    whole = Plan(steps=[*plan.steps, *added.steps], rationale=plan.rationale)
    validate_plan(whole, catalog, max_steps=max_steps)
    errors = policy_errors(whole, ticket, catalog) + person_only_errors(added, catalog)
    if errors:
        raise PlanInvalid(errors)
