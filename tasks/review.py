"""People in the loop: acting on what a person decides about a held run (agent/autonomy.py), and on the
timeout when nobody does. The hold itself happens in tasks/execute.py, before a run's first side effect.

Approving twice runs once: the decision is stored with SET NX first, and only its one writer acts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agent.arguments import literal_ok
from agent.autonomy import NEEDS_TRIAGE_LABEL, Decision, Edits
from agent.plan import Plan, PlanInvalid
from agent.policy import review_plan
from agent.run import Run, StepState, now
from agent.store.runs import Progress
from monitoring import events
from tasks.execute import follow, run_closed
from tasks.operate import Refused
from tasks.traced import run_span
from tools.base import Tool, ToolConfig
from tools.taxonomy import taxonomy_for
from workers.runtime import Runtime


class NotDecided(Refused):
    """The decision could not be taken (not held, decided already, an edit the plan refuses); says why."""


def decide(rt: Runtime, run_id: str, decision: Decision) -> None:
    """Approve (with edits) or reject a held run, once; raise NotDecided with the reason otherwise."""
    run = rt.store.runs.get(run_id)
    hold = rt.store.reviews.held(run_id)
    if run is None or run.plan is None or hold is None:
        raise NotDecided(f"run {run_id} is not held for review")
    with run_span("triage.review", run, links=[hold.trace]):
        _decide(rt, run, decision)


def _decide(rt: Runtime, run: Run, decision: Decision) -> None:
    run_id = run.id
    assert run.plan is not None
    if (earlier := rt.store.reviews.decision(run_id)) is not None:
        raise NotDecided(f"run {run_id} was decided already: {earlier.action} by {earlier.by}")
    plan = run.plan
    if decision.action == "approve":
        _check_values(rt.desk(run.ticket.mailbox).tool_config, decision.edits)
        plan = edited(run.plan, decision.edits, run.steps, rt.catalog)
    try:
        review_plan(plan, run.ticket, rt.catalog, max_steps=rt.settings.max_plan_steps, by_person=True)
    except PlanInvalid as exc:
        raise NotDecided(f"the edited plan is refused: {exc}") from None
    if not rt.store.reviews.decide(run_id, decision):
        earlier = rt.store.reviews.decision(run_id)
        said = f"{earlier.action} by {earlier.by}" if earlier else "?"
        raise NotDecided(f"run {run_id} was decided already: {said}")
    edits = decision.edits.model_dump(exclude_defaults=True)
    rt.store.operations.record_audit(decision.action, run_id, decision.reason, by=decision.by, edits=edits)
    events.review_decided(run_id, decision.action, decision.by)
    if decision.action == "reject":
        if rt.store.runs.finish(run_id, "rejected", f"rejected by {decision.by}: {decision.reason}"):
            run_closed(rt, run, "rejected", decision.reason)
        return
    if plan != run.plan:
        rt.store.runs.replace_plan(run_id, plan)
    rt.store.runs.set_status(run_id, "running")
    parked = [s.id for s in plan.steps if _parked(rt, run, s.id)]
    follow(rt, run.model_copy(update={"plan": plan, "status": "running"}), Progress(0, parked))


def _check_values(config: ToolConfig, edits: Edits) -> None:
    """Refuse a priority Jira is not configured with, or a category the run's taxonomy does not have."""
    priorities = set(config.jira_priorities.values())
    if edits.priority is not None and edits.priority not in priorities:
        known = ", ".join(sorted(priorities))
        raise NotDecided(f"priority {edits.priority!r} is none of {known} (TRIAGE_JIRA_PRIORITIES)")
    categories = [c.name for c in taxonomy_for(config.categories_file).categories]
    if edits.category is not None and edits.category not in categories:
        raise NotDecided(f"category {edits.category!r} is none of {', '.join(categories)}")


def _parked(rt: Runtime, run: Run, step_id: str) -> bool:
    """True for a step claimed while the run was held: pending, and handed to the queue's claim."""
    state = run.steps.get(step_id)
    return (
        state is not None
        and state.status == "pending"
        and rt.store.runs.dispatched_at(run.id, step_id) is not None
    )


def edited(
    plan: Plan, edits: Edits, steps: Mapping[str, StepState], catalog: Mapping[str, Tool[Any, Any]]
) -> Plan:
    """The plan with a person's edits applied to every step still to run that takes them: the issue it
    opens (category, urgency, summary, priority, labels), its acknowledgement and what memory keeps
    (category, urgency). Literal values replace what the steps would have found; a person's urgency is
    final, so nothing raises it. NotDecided says why when an edit reaches a step that ran already, or no
    step at all."""
    changes: dict[str, object] = edits.model_dump(exclude_none=True, exclude={"labels"})
    if "urgency" in changes:
        changes["raise_urgency"] = 0
    if edits.labels:
        changes["labels"] = edits.labels
    taken: set[str] = set()
    ran: list[str] = []
    updated = []
    for step in plan.steps:
        fields = catalog[step.tool].args_model.model_fields
        mine = {k: v for k, v in changes.items() if k in fields and literal_ok(fields[k])}
        taken |= mine.keys()
        state = steps.get(step.id)
        if mine and state is not None and state.status != "pending":
            ran.append(
                f"{', '.join(sorted(mine))} of step {step.id!r} ({step.tool}), which is {state.status}"
            )
        updated.append(step.model_copy(update={"args": {**step.args, **mine}}) if mine else step)
    if ran:
        raise NotDecided("an edit of what is done already is refused: " + "; ".join(ran))
    if untaken := sorted(changes.keys() - taken):
        raise NotDecided(f"no step of this run takes {', '.join(untaken)} (a reply opens no issue)")
    return plan.model_copy(update={"steps": updated}) if changes else plan


def expire_holds(rt: Runtime, at: datetime | None = None) -> int:
    """Apply the policy's on_timeout to every hold nobody decided on by `at` (now); how many."""
    due = [hold for hold in rt.store.reviews.waiting() if hold.expires_at <= (at or now())]
    for hold in due:
        action = "reject" if hold.on_timeout == "reject" else "approve"
        labels = [NEEDS_TRIAGE_LABEL] if hold.on_timeout == "needs_triage" else []
        why = f"nobody decided within the approval timeout ({hold.on_timeout})"
        decision = Decision(
            action=action, by="policy:timeout", at=now(), edits=Edits(labels=labels), reason=why
        )
        try:
            decide(rt, hold.run_id, decision)
        except NotDecided:  # a person decided meanwhile, or the run is gone
            continue
    return len(due)
