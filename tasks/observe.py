"""Observe: once every step of a model's plan is done, the planner looks at what they found and may add
steps (agent/observer.py); what it adds is appended to the plan and dispatched, and the look is recorded
on the run whatever it came to. Nothing added: the run closes."""

from __future__ import annotations

import logging

from agent.observer import Extension
from agent.plan import Plan
from agent.run import Observation, Run, now
from monitoring import events
from tasks.execute import dispatch, follow
from tasks.traced import run_span
from workers.app import app
from workers.runtime import Runtime, runtime

log = logging.getLogger("triage")


@app.task(name="triage.observe", max_retries=None)
def observe_run(run_id: str) -> None:
    """Take one look at a run whose steps are all done (a look recorded already is not taken again)."""
    rt = runtime()
    run = rt.store.runs.get(run_id)
    if run is None or run.plan is None or run.is_final:
        return
    if not all(s.settled for s in run.steps.values()):  # a stale message: the run is not there yet
        return
    with run_span("triage.observe", run, look=len(run.observations) + 1):
        _look(rt, run)


def _look(rt: Runtime, run: Run) -> None:
    """Take the look, record it, and send what it added (or close the run)."""
    assert run.plan is not None
    run_id = run.id
    look = len(run.observations) + 1
    extension = _extend(rt, run)
    if extension.usage.calls:
        rt.store.runs.record_usage(run_id, extension.usage)
        events.llm_used("observe", extension.usage)
    added = [s.id for s in extension.steps]
    observation = Observation(
        round=look, at=now(), outcome=extension.outcome, added=added, notes=extension.notes
    )
    plan = Plan(steps=[*run.plan.steps, *extension.steps], rationale=run.plan.rationale)
    left = rt.settings.observe_rounds - look
    progress = rt.store.runs.extend_plan(run_id, plan, observation, left)
    if progress is None:  # another process recorded this look first: go on from theirs
        if (again := rt.store.runs.get(run_id)) is not None:
            dispatch(rt, again)
        return
    events.plan_observed(
        run_id, extension.outcome, [(s.id, s.tool) for s in extension.steps], extension.notes
    )
    follow(rt, run.model_copy(update={"plan": plan}), progress)


def _extend(rt: Runtime, run: Run) -> Extension:
    """What the observer adds; nothing (and why) when this worker has none or the look failed."""
    if rt.observer is None:
        return Extension([], "nothing", ["this worker has no observer (TRIAGE_OBSERVE_ROUNDS=0 or no LLM)"])
    try:
        return rt.observer.extend(run, rt.desk(run.ticket.mailbox).kb)
    except Exception as exc:  # an observer's bug must not leave the run open: it closes, and says why
        log.exception("observer failed run=%s", run.id)
        return Extension([], "rejected", [f"the observer failed: {type(exc).__name__}: {exc}"])
