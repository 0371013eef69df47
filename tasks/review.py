"""People in the loop: acting on what a person decides about a held run (agent/autonomy.py), and on the
timeout when nobody does. The hold itself happens in tasks/execute.py, before a run's first side effect.

Approving twice runs once: the decision is stored with SET NX first, and only its one writer acts.
"""

from __future__ import annotations

from datetime import datetime

from agent.autonomy import NEEDS_TRIAGE_LABEL, Decision, Edits
from agent.plan import Plan, PlanInvalid
from agent.policy import review_plan
from agent.run import now
from agent.store.runs import Progress
from monitoring import events
from tasks.execute import follow
from tasks.operate import Refused
from workers.runtime import Runtime

_EDITABLE_TOOL = "create_jira_issue"


class NotDecided(Refused):
    """The decision could not be taken (not held, decided already, an edit the plan refuses); says why."""


def decide(rt: Runtime, run_id: str, decision: Decision) -> None:
    """Approve (with edits) or reject a held run, once; raise NotDecided with the reason otherwise."""
    run = rt.store.runs.get(run_id)
    if run is None or run.plan is None or rt.store.reviews.held(run_id) is None:
        raise NotDecided(f"run {run_id} is not held for review")
    priorities = set(rt.tool_config.jira_priorities.values())
    if decision.edits.priority is not None and decision.edits.priority not in priorities:
        raise NotDecided(f"priority {decision.edits.priority!r} is none of {', '.join(sorted(priorities))}"
                         " (TRIAGE_JIRA_PRIORITIES)")  # fmt: skip
    plan = edited(run.plan, decision.edits) if decision.action == "approve" else run.plan
    try:
        review_plan(plan, run.ticket, rt.catalog, max_steps=rt.settings.max_plan_steps, by_person=True)
    except PlanInvalid as exc:
        raise NotDecided(f"the edited plan is refused: {exc}") from None
    if not rt.store.reviews.decide(run_id, decision):
        earlier = rt.store.reviews.decision(run_id)
        raise NotDecided(f"run {run_id} was decided already: {earlier.action if earlier else '?'}"
                         f" by {earlier.by if earlier else '?'}")  # fmt: skip
    rt.store.operations.record_audit(decision.action, run_id, decision.reason, by=decision.by,
                                     edits=decision.edits.model_dump(exclude_defaults=True))  # fmt: skip
    events.review_decided(run_id, decision.action, decision.by)
    if decision.action == "reject":
        if rt.store.runs.finish(run_id, "rejected", f"rejected by {decision.by}: {decision.reason}"):
            events.run_finished(run_id, "rejected", (now() - run.created_at).total_seconds(), decision.reason)
        return
    if plan != run.plan:
        rt.store.runs.replace_plan(run_id, plan)
    rt.store.runs.set_status(run_id, "running")
    parked = [s.id for s in plan.steps if run.steps.get(s.id) and run.steps[s.id].status == "pending"
              and rt.store.runs.dispatched_at(run_id, s.id) is not None]  # fmt: skip
    follow(rt, run.model_copy(update={"plan": plan, "status": "running"}), Progress(0, parked))


def edited(plan: Plan, edits: Edits) -> Plan:
    """The plan with a person's edits applied to the issue it opens (literal values replace what the
    steps would have found; a person's urgency is final, so nothing raises it)."""
    changes: dict[str, object] = edits.model_dump(exclude_none=True, exclude={"labels"})
    if "urgency" in changes:
        changes["raise_urgency"] = 0
    if edits.labels:
        changes["labels"] = edits.labels
    if not changes:
        return plan
    steps = [s.model_copy(update={"args": {**s.args, **changes}}) if s.tool == _EDITABLE_TOOL else s
             for s in plan.steps]  # fmt: skip
    return plan.model_copy(update={"steps": steps})


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
