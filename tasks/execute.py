"""Execute a plan's steps. For each: load the run once, attempt the tool with its time limit, ask
agent/attempt.py what that means (done, retry, wait, give up) and apply it: record, then dispatch what
follows, schedule the retry, or dead-letter the run.

A step that this task's own advance claimed is run here next instead of being sent (when what is left of
the message's time limit covers it): it saves a publish, a delivery and an ack per step, the bulk of
what a step costs. The others are sent to the queue as before; a retry or a wait is always sent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from celery import Task

from agent.attempt import Decision, Done, GiveUp, Limits, Wait, after_crash, decide
from agent.plan import Plan, Step, resolve_args
from agent.run import Run, StepState, now
from agent.store.runs import Progress
from monitoring import events, tracing
from tasks.gate import held_back
from tasks.step_context import step_context
from tasks.tool_call import me, message_limits, owner_alive, run_with_timeout, time_limits
from tasks.traced import run_span
from tasks.turns import turn_over
from tools.base import Tool
from tools.catalog import get_tool
from tools.categorize import categorize_ticket
from tools.incident import link_incident
from workers.app import app
from workers.broker import countdown
from workers.runtime import Runtime, observe_time_limit, runtime

OBSERVE_TASK = "triage.observe"  # tasks/observe.py, which builds on this module: sent by name
SHADOW_TASK = "triage.shadow"  # tasks/shadow.py, likewise


def fail_run(rt: Runtime, run: Run, reason: str) -> None:
    """Dead-letter a run with its reason (once: the first caller closes it and says so)."""
    if rt.store.runs.finish(run.id, "dead_letter", reason):
        run_closed(rt, run, "dead_letter", reason)


def run_closed(rt: Runtime, run: Run, status: str, error: str | None = None) -> None:
    """Say a run closed (its metric by mailbox, its log line), and give its place to the next run."""
    elapsed = (now() - run.created_at).total_seconds()
    events.run_finished(run.id, status, elapsed, error, mailbox=run.ticket.mailbox)
    turn_over(rt, run.id)
    if rt.settings.shadow_model and run.plan is not None:  # tasks/shadow.py, which builds on this module
        app.send_task(SHADOW_TASK, (run.id,))


def dispatch(rt: Runtime, run: Run) -> None:
    """Send every step whose dependencies are done (once each), or close the run when all are done."""
    if run.plan is not None and not run.is_final:
        follow(rt, run, rt.store.runs.advance(run.id, run.plan))


def follow(rt: Runtime, run: Run, progress: Progress, room_s: float = 0.0) -> list[str]:
    """Act on what advancing the run decided: send the steps this caller claimed, send the planner's look
    at the results, or say the run closed. Claimed steps that fit in `room_s` (what the caller's message
    has left) are kept, not sent: returned for the caller to run itself (see _kept)."""
    if progress.closed:
        run_closed(rt, run, "done")
    if progress.observe:
        soft = observe_time_limit(rt.settings)
        try:
            app.send_task(OBSERVE_TASK, (run.id,), soft_time_limit=soft, time_limit=soft + 10)
        except Exception:  # not sent: free the claim for the sweeper or a redelivery
            rt.store.runs.release_observe(run.id)
            raise
        return []
    plan = run.plan
    if plan is None or (progress.claimed and held_back(rt, run, progress.claimed)):
        return []
    kept = _kept(rt, plan, progress.claimed, room_s)
    to_send = [s for s in progress.claimed if s not in kept]
    for sent, step_id in enumerate(to_send):
        try:
            soft, hard = message_limits(rt.catalog, plan, step_id)
            execute_step.apply_async((run.id, step_id), soft_time_limit=soft, time_limit=hard)
        except Exception:  # not sent: free the claims, so the sweeper or a redelivery can send them
            for unsent in [*to_send[sent:], *kept]:
                rt.store.runs.release_dispatch(run.id, unsent)
            raise
    return kept


def _kept(rt: Runtime, plan: Plan, claimed: list[str], room_s: float) -> list[str]:
    """The claimed steps the caller runs itself, in order: the first whose hard time limit fits in
    `room_s`; with no limit on the caller's message, also every other step of quick local work (a tool
    with no model to ask: the plan's categorize and extract), which costs less than a message. (With
    TRIAGE_SIMULATED_TOOL_LATENCY_S every tool stands in for I/O: none is local work then.)"""
    tools = {s: get_tool(rt.catalog, plan.step(s).tool) for s in claimed}
    first = next((s for s in claimed if time_limits(tools[s])[1] <= room_s), None)
    quick = room_s == math.inf and not rt.settings.simulated_tool_latency_s
    local = [s for s in claimed if s != first and quick and tools[s].local(rt.llm)]
    return ([first] if first is not None else []) + local


@app.task(bind=True, name="triage.execute_step", max_retries=None)
def execute_step(self: Task[Any, Any], run_id: str, step_id: str) -> None:
    """Run one step of a run's plan (load the run once, attempt the tool, apply the decision), then each
    step that it claimed and that fits in what is left of this message's hard time limit."""
    hard = (self.request.timelimit or (None, None))[0]
    run_steps(self, runtime(), run_id, [step_id], time.monotonic() + hard if hard else math.inf)


def run_steps(
    task: Task[Any, Any], rt: Runtime, run_id: str, steps: list[str], deadline: float, inline: bool = False
) -> None:
    """Run these steps, and the steps each kept for itself, one after another, while they fit before
    `deadline` (time.monotonic()). `inline`: the first step is not the one the task's message names (the
    plan task runs the steps it claimed this way), so its retry is sent as a message of its own."""
    queue = list(steps)
    while queue:
        queue += _run_step(task, rt, run_id, queue.pop(0), deadline, inline)
        inline = True


def _run_step(
    task: Task[Any, Any], rt: Runtime, run_id: str, step_id: str, deadline: float, inline: bool
) -> list[str]:
    """One step: load the run once, attempt the tool, apply the decision; the steps to run here next."""
    first = StepState(status="running", attempts=1, started_at=now(), owner=me())
    run, started = rt.store.runs.start_step(run_id, step_id, first)  # a crash from here on is counted
    if run is None or run.plan is None or run.is_final:
        return []
    step = run.plan.step(step_id)
    tool = get_tool(rt.catalog, step.tool)
    limits = Limits(rt.settings.dependency_wait_s, rt.settings.retry_scale, rt.settings.poison_threshold)
    state = run.steps[step_id] if started else _begin_again(rt, run, step_id, tool, limits)
    if state is None:
        return []
    with run_span(f"triage.step {tool.name}", run, step=step_id, attempt=state.attempts):
        result, error, elapsed = _attempt(rt, run, step, tool)
        decision = decide(error, state, tool.retry, limits, now())
        outcome = _Outcome(decision, result, elapsed, error)
        return _apply(task, rt, run, step_id, tool, state, outcome, deadline, inline)


@dataclass(frozen=True)
class _Outcome:
    """What one attempt came to: the decision on it, the tool's result or error, and the seconds it took."""

    decision: Decision
    result: dict[str, Any]
    elapsed: float
    error: Exception | None


def _begin_again(
    rt: Runtime, run: Run, step_id: str, tool: Tool[Any, Any], limits: Limits
) -> StepState | None:
    """A step attempted before (a retry, a redelivery, a crash): its state for this attempt, or None when
    there is nothing to attempt (it is done, and what follows it was sent; or it was poison)."""
    state = run.steps.get(step_id, StepState())
    if state.settled:  # a redelivered task: the work is recorded, just carry on
        dispatch(rt, run)
        return None
    state, poisoned = after_crash(state, owner_alive(state.owner), limits)
    if poisoned is not None:
        _give_up(rt, run, step_id, state, tool, 0.0, poisoned.why)
        return None
    state = state.model_copy(
        update={"status": "running", "attempts": state.attempts + 1, "started_at": now(), "owner": me()}
    )
    rt.store.runs.save_step(run.id, step_id, state)  # a crash from here on is counted by the next attempt
    return state


def _attempt(
    rt: Runtime, run: Run, step: Step, tool: Tool[Any, Any]
) -> tuple[dict[str, Any], Exception | None, float]:
    """Call the tool once with its time limit: (its result, or the error it raised; the seconds it took)."""
    ctx = step_context(rt, run, step.id, tool)
    started = time.monotonic()
    try:
        if rt.settings.simulated_tool_latency_s:
            time.sleep(rt.settings.simulated_tool_latency_s)
        args = resolve_args(step.args, run.ticket, run.results(), run.recall)
        return run_with_timeout(tool, args, ctx), None, time.monotonic() - started
    except Exception as exc:  # every failure is decided on, none escapes unrecorded
        return {}, exc, time.monotonic() - started


def _apply(
    task: Task[Any, Any],
    rt: Runtime,
    run: Run,
    step_id: str,
    tool: Tool[Any, Any],
    state: StepState,
    outcome: _Outcome,
    deadline: float,
    inline: bool,
) -> list[str]:
    """Record what the decision says and act on it: dispatch what follows (returning the steps to run
    here next), retry, wait, or dead-letter."""
    decision, elapsed, error = outcome.decision, outcome.elapsed, outcome.error
    assert run.plan is not None
    if isinstance(decision, Done) or (isinstance(decision, GiveUp) and tool.best_effort):
        final: dict[str, Any]
        if isinstance(decision, Done) and isinstance(issue_key := outcome.result.get("issue_key"), str):
            rt.store.runs.index_issue(issue_key, run.id)  # before the result: a rerun notes it again
            tracing.note(issue_key=issue_key)
        if isinstance(decision, Done):
            final = {"status": "done", "result": outcome.result, "error": None}
        else:  # a best-effort tool gave up: the run goes on without it, and says so
            final = {"status": "skipped", "error": f"went on without it: {decision.why}"}
        final |= {"finished_at": now(), "duration_s": round(elapsed, 6)}
        progress = rt.store.runs.advance(run.id, run.plan, step_id, state.model_copy(update=final))
        said = "success" if final["status"] == "done" else "skipped"
        events.step_attempted(run.id, run.ticket.id, step_id, tool.name, state.attempts, said, elapsed)
        if tool.name == categorize_ticket.name and (met := outcome.result.get("correction")):
            events.correction_met(run.id, str(met), str(outcome.result.get("source")))
        if tool.name == link_incident.name and said == "success":
            result = outcome.result
            events.incident_progress(
                run.id, result.get("incident_id"), result.get("opened", False), result.get("linked", [])
            )
        return follow(rt, run, progress, deadline - time.monotonic())
    if isinstance(decision, GiveUp):
        _give_up(rt, run, step_id, state, tool, elapsed, decision.why)
        return []
    if isinstance(decision, Wait):  # not a failed attempt: the attempt is given back
        given_back = {
            "status": "retrying",
            "attempts": state.attempts - 1,
            "waiting_since": decision.since,
            "error": decision.why,
        }
        later, said = state.model_copy(update=given_back), "waiting"
    else:
        later, said = state.model_copy(update={"status": "retrying", "error": decision.why}), "retry"
    rt.store.runs.save_step(run.id, step_id, later)
    events.step_attempted(run.id, run.ticket.id, step_id, tool.name, later.attempts, said, elapsed)
    soft, hard = message_limits(rt.catalog, run.plan, step_id)
    wait = countdown(rt.settings, decision.delay_s)
    if inline:  # this message is another step's: the retry goes as a message of its own
        execute_step.apply_async((run.id, step_id), countdown=wait, soft_time_limit=soft, time_limit=hard)
        return []
    raise task.retry(countdown=wait, soft_time_limit=soft, time_limit=hard, throw=False) from error


def _give_up(
    rt: Runtime, run: Run, step_id: str, state: StepState, tool: Tool[Any, Any], elapsed: float, why: str
) -> None:
    failed = state.model_copy(
        update={"status": "failed", "finished_at": now(), "duration_s": round(elapsed, 6), "error": why}
    )
    rt.store.runs.save_step(run.id, step_id, failed)
    events.step_attempted(run.id, run.ticket.id, step_id, tool.name, state.attempts, "dead_letter", elapsed)
    fail_run(rt, run, f"step {step_id!r} ({tool.name}) failed: {why}")
