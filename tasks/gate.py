"""The gate: before a run's first side effect, the autonomy policy (agent/autonomy.py) decides whether it
acts on its own or waits for a person.

It is judged in one place, whatever the tool: when a step that has a side effect is claimed, on the run
as it is after the last result was stored (re-read, not the copy the caller loaded before its own step
ran), with every finding step before it settled (agent/plan.py: waits_for). Judged once: a run that
acted on its own keeps doing so; a held run's claimed steps stay claimed until a person decides.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from agent.autonomy import Hold, Policy, Verdict, facts_of, judge
from agent.plan import FINDING_TOOLS, Plan, resolve_args
from agent.run import Run, now
from monitoring import events
from tasks.tool_call import run_with_timeout
from tasks.traced import run_span
from tasks.turns import turn_over
from tools.base import ToolContext
from tools.catalog import get_tool
from tools.errors import ToolError
from workers.runtime import Runtime

log = logging.getLogger("triage")


def held_back(rt: Runtime, run: Run, claimed: list[str]) -> bool:
    """True when the claimed steps must wait for a person: the policy holds the run before its first side
    effect (its claimed steps stay claimed, and are sent when a person approves). A run held before goes
    on once approved."""
    policy = rt.desk(run.ticket.mailbox).policy
    if policy is None or not any(_acts(rt, run, s) for s in claimed):
        return False
    if rt.store.reviews.held(run.id) is not None:
        return rt.store.reviews.decision(run.id) is None
    current = rt.store.runs.get(run.id)  # with the result its caller just stored
    if current is None or current.plan is None or _acted_already(rt, current):
        return False
    verdict = _verdict(rt, policy, current)
    if not verdict.holds:
        return False
    at, wait = now(), timedelta(seconds=rt.settings.approval_timeout_s)
    with run_span("triage.hold", current) as trace:  # its decision, later, links to it
        hold = Hold(
            run_id=run.id,
            mode=verdict.mode,
            rules=list(verdict.rules),
            held_at=at,
            expires_at=at + wait,
            on_timeout=policy.on_timeout,
            parked=claimed,
            trace=trace,
        )
        if rt.store.reviews.hold(hold):
            rt.store.runs.set_status(run.id, "held")
            events.run_held(run.id, verdict.mode, verdict.rules)
            turn_over(rt, run.id)
    return True


def _verdict(rt: Runtime, policy: Policy, run: Run) -> Verdict:
    """The policy's verdict on the run; held when the findings it needs cannot be made (fail closed)."""
    rule_plan = rt.rules().make_plan(run.ticket, run.recall).plan
    try:
        return judge(policy, facts_of(run, rule_plan, lambda: offline_findings(rt, run, rule_plan)))
    except ToolError as exc:
        log.warning("policy findings failed run=%s error=%s", run.id, exc)
        return Verdict("supervised", ("findings-unavailable",))


def offline_findings(rt: Runtime, run: Run, rule_plan: Plan) -> dict[str, Any]:
    """What the offline tools find in the ticket (the rule plan's categorize and extract steps, run
    without a model, as the executor runs them): the policy's facts for a plan that has no finding step
    of its own."""
    found: dict[str, Any] = {}
    for step in (s for s in rule_plan.steps if s.tool in FINDING_TOOLS):
        config = rt.desk(run.ticket.mailbox).tool_config
        ctx = ToolContext(run.id, run.ticket.id, f"policy-{step.id}", rt.store.ledger, config)
        args = resolve_args(step.args, run.ticket, {}, run.recall)
        found |= run_with_timeout(get_tool(rt.catalog, step.tool), args, ctx)
    return found


def _acts(rt: Runtime, run: Run, step_id: str) -> bool:
    """Whether this step of the run's plan has a side effect."""
    assert run.plan is not None
    return get_tool(rt.catalog, run.plan.step(step_id).tool).side_effect


def _acted_already(rt: Runtime, run: Run) -> bool:
    """True when a side-effecting step of the run was attempted: the gate let it act on its own then."""
    return any(_acts(rt, run, sid) and state.status != "pending" for sid, state in run.steps.items())
