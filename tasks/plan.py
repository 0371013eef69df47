"""Plan: recall what memory holds of the ticket, ask the planner for a plan, validate it, store both, and
dispatch the first steps. A worker that also executes runs the first of them itself, and any other of
quick local work (tasks/execute.py), rather than sending them: a message less for each."""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from typing import Any

from celery import Task

from agent.memory.chroma import MemoryUnavailable
from agent.memory.recall import Recall
from agent.plan import PlanInvalid
from agent.policy import review_plan
from agent.run import Run, now
from inbox.ticket import Ticket
from monitoring import events
from tasks.execute import dispatch, fail_run, follow, run_steps
from tasks.traced import run_span
from tasks.turns import next_run
from workers.app import app, consumes
from workers.broker import countdown
from workers.runtime import Runtime, runtime

log = logging.getLogger("triage")


@app.task(bind=True, name="triage.plan", max_retries=None)
def plan_run(self: Task[Any, Any], run_id: str | None = None) -> None:
    """Plan a run once (a redelivered task reuses the stored plan), then dispatch its ready steps.

    Without a run id, plan the run whose fair turn it is (tasks/turns.py), if a place is free."""
    rt = runtime()
    run_id = run_id or next_run(rt)
    if run_id is not None:
        _plan(self, rt, run_id)


def _plan(task: Task[Any, Any], rt: Runtime, run_id: str) -> None:
    run = rt.store.runs.get(run_id)
    if run is None or run.is_final:
        return
    if run.plan is not None:  # a redelivered task: the plan stands, its steps go on
        dispatch(rt, run)
        return
    hard = (task.request.timelimit or (None, None))[0]
    deadline = time.monotonic() + hard if hard else math.inf
    with run_span("triage.plan", run):
        kept = _make_plan(task, rt, run, deadline)
    run_steps(task, rt, run_id, kept, deadline, inline=True)


def _make_plan(task: Task[Any, Any], rt: Runtime, run: Run, deadline: float) -> list[str]:
    """Ask the planner, validate and store its plan, and dispatch its first steps (or go on with the
    plan another process stored first); the steps this process runs itself next."""
    run_id = run.id
    recall = _recall(task, rt, run_id, run.ticket)
    try:
        planned = rt.planner.make_plan(run.ticket, recall)
    except Exception as exc:  # a planner's bug: dead-lettered with why, never a run left in planning
        log.exception("planner failed run=%s", run_id)
        fail_run(rt, run, f"the planner failed: {type(exc).__name__}: {exc}")
        return []
    if planned.usage is not None:
        rt.store.runs.record_usage(run_id, planned.usage)
        events.llm_used("plan", planned.usage)
    try:  # every plan, whoever wrote it, passes the same validation and policy
        review_plan(planned.plan, run.ticket, rt.catalog, max_steps=rt.settings.max_plan_steps)
    except PlanInvalid as exc:
        fail_run(rt, run, f"plan rejected: {exc}")
        return []
    progress = rt.store.runs.save_plan(run_id, planned, recall, rt.observing(planned.planner))
    if progress is not None:
        events.plan_made(run_id, planned.planner, len(planned.plan.steps), planned.notes)
        run.plan = planned.plan
        return follow(rt, run, progress, deadline - time.monotonic() if consumes("execute") else 0.0)
    again = rt.store.runs.get(run_id)  # a redelivered task planned it meanwhile: go on with theirs
    if again is not None:
        dispatch(rt, again)
    return []


def _recall(task: Task[Any, Any], rt: Runtime, run_id: str, ticket: Ticket) -> Recall | None:
    """What memory holds of the ticket (None with memory off). Unreachable, the task is retried; after
    TRIAGE_MEMORY_ATTEMPTS the run is planned without memory, and its recall says why."""
    if rt.memory is None:
        return None
    since = now() - timedelta(seconds=rt.settings.memory_history_s)
    try:
        return rt.memory.recall(ticket, rt.settings.memory_similar, since)
    except MemoryUnavailable as exc:
        attempt = task.request.retries + 1
        if attempt < rt.settings.memory_attempts:
            wait = countdown(rt.settings, min(30.0, 2.0**attempt) * rt.settings.retry_scale)
            raise task.retry(args=(run_id,), countdown=wait, exc=exc) from exc
        log.warning(
            "recall failed ticket=%s attempts=%d: %s; planning without memory", ticket.id, attempt, exc
        )
        return Recall(error=f"planned without memory after {attempt} attempts: {exc}")
