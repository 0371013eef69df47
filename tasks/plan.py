"""Plan: ask the planner for a plan, validate it, store it, and dispatch the first steps."""

from __future__ import annotations

from agent.plan import PlanInvalid
from agent.policy import review_plan
from monitoring import events
from tasks.execute import dispatch, fail_run, follow
from workers.app import app
from workers.runtime import runtime


@app.task(name="triage.plan")
def plan_run(run_id: str) -> None:
    """Plan a run once (a redelivered task reuses the stored plan), then dispatch its ready steps."""
    rt = runtime()
    run = rt.store.runs.get(run_id)
    if run is None or run.is_final:
        return
    if run.plan is None:
        planned = rt.planner.make_plan(run.ticket)
        if planned.usage is not None:
            rt.store.runs.record_usage(run_id, planned.usage)
            events.llm_used("plan", planned.usage)
        try:  # every plan, whoever wrote it, passes the same validation and policy
            review_plan(planned.plan, run.ticket, rt.catalog, max_steps=rt.settings.max_plan_steps)
        except PlanInvalid as exc:
            fail_run(rt, run, f"plan rejected: {exc}")
            return
        progress = rt.store.runs.save_plan(run_id, planned)
        if progress is not None:
            events.plan_made(run_id, planned.planner, len(planned.plan.steps), planned.notes)
            run.plan = planned.plan
            follow(rt, run, progress)
            return
        run = rt.store.runs.get(run_id)  # a redelivered task planned it meanwhile: go on with theirs
        if run is None:
            return
    dispatch(rt, run)
