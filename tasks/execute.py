"""Execute: one task per plan step. Load the run once, attempt the tool with its time limit, ask
agent/attempt.py what that means (done, retry, wait, give up) and apply it: record, then dispatch what
follows, schedule the retry, or dead-letter the run.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Task

from agent.attempt import Decision, Done, GiveUp, Limits, Wait, after_crash, decide
from agent.autonomy import Hold, facts_of, judge
from agent.mail_files import StoredMail
from agent.plan import Step, resolve_args
from agent.run import Run, StepState, now
from agent.store.runs import Progress, Runs
from monitoring import events
from tools.base import Tool, ToolContext
from tools.catalog import get_tool
from tools.errors import RetryableToolError
from tools.incident import link_incident
from tools.llm import Usage
from tools.sandbox import SANDBOX
from workers.app import app
from workers.runtime import Runtime, observe_time_limit, runtime

OBSERVE_TASK = "triage.observe"  # tasks/observe.py, which builds on this module: sent by name


def fail_run(rt: Runtime, run: Run, reason: str) -> None:
    """Dead-letter a run with its reason (once: the first caller closes it and says so)."""
    if rt.store.runs.finish(run.id, "dead_letter", reason):
        events.run_finished(run.id, "dead_letter", (now() - run.created_at).total_seconds(), reason)


def dispatch(rt: Runtime, run: Run) -> None:
    """Send every step whose dependencies are done (once each), or close the run when all are done."""
    if run.plan is not None and not run.is_final:
        follow(rt, run, rt.store.runs.advance(run.id, run.plan))


def follow(rt: Runtime, run: Run, progress: Progress) -> None:
    """Act on what advancing the run decided: send the steps this caller claimed, send the planner's look
    at the results, or say the run closed."""
    if progress.closed:
        events.run_finished(run.id, "done", (now() - run.created_at).total_seconds())
    if progress.observe:
        soft = observe_time_limit(rt.settings)
        try:
            app.send_task(OBSERVE_TASK, (run.id,), soft_time_limit=soft, time_limit=soft + 10)
        except Exception:  # not sent: free the claim for the sweeper or a redelivery
            rt.store.runs.release_observe(run.id)
            raise
        return
    plan = run.plan
    if plan is None or (progress.claimed and held_back(rt, run, progress.claimed)):
        return
    for sent, step_id in enumerate(progress.claimed):
        try:
            soft, hard = time_limits(get_tool(rt.catalog, plan.step(step_id).tool))
            execute_step.apply_async((run.id, step_id), soft_time_limit=soft, time_limit=hard)
        except Exception:  # not sent: free the claims, so the sweeper or a redelivery can send them
            for unsent in progress.claimed[sent:]:
                rt.store.runs.release_dispatch(run.id, unsent)
            raise


def held_back(rt: Runtime, run: Run, claimed: list[str]) -> bool:
    """True when the claimed steps must wait for a person: the autonomy policy holds the run before its
    first side effect (its claimed steps stay claimed, and are sent when a person approves). A run held
    before goes on once approved."""
    assert run.plan is not None
    policy, plan = rt.policy, run.plan
    if policy is None or not any(get_tool(rt.catalog, plan.step(s).tool).side_effect for s in claimed):
        return False
    if rt.store.reviews.held(run.id) is not None:
        return rt.store.reviews.decision(run.id) is None
    verdict = judge(policy, facts_of(run, rt.rules().make_plan(run.ticket, run.recall).plan))
    if not verdict.holds:
        return False
    at, wait = now(), timedelta(seconds=rt.settings.approval_timeout_s)
    hold = Hold(run_id=run.id, mode=verdict.mode, rules=list(verdict.rules), held_at=at, expires_at=at + wait,
                on_timeout=policy.on_timeout, parked=claimed)  # fmt: skip
    if rt.store.reviews.hold(hold):
        rt.store.runs.set_status(run.id, "held")
        events.run_held(run.id, verdict.mode, verdict.rules)
    return True


@dataclass(frozen=True)
class _Usage:
    """Where a step's LLM usage goes: the run's totals and the LLM metrics (the tools report it here and
    know nothing of monitoring)."""

    runs: Runs

    def record_usage(self, run_id: str, usage: Usage) -> None:
        self.runs.record_usage(run_id, usage)
        events.llm_used("analysis", usage)


def _me() -> str:
    """host:pid of this process, asked at each attempt: a prefork child is not the parent it forked
    from, so an owner computed at import named the parent, and a dead child looked alive."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """True when the process that ran the last attempt still lives on this host: it did not crash, its
    attempt ended some other way (Redis went away under it). A process on another host counts as dead."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, just not ours
        return True
    return True


def time_limits(tool: Tool[Any, Any]) -> tuple[int, int]:
    """Celery's (soft, hard) time limits for a step of this tool (enforced by the prefork pool)."""
    return math.ceil(tool.timeout_s) + 2, math.ceil(tool.hard_timeout_s)


def run_with_timeout(tool: Tool[Any, Any], args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """Call the tool, giving up after its timeout (works in every pool; the hard limit backs it up).

    A CPU-bound tool with no LLM to ask runs in a helper process that is killed when it overruns: a
    thread cannot be stopped, and a regex holding the GIL would freeze every thread of the worker.
    """
    limit = tool.isolation_limit(ctx)
    if limit is not None:
        return SANDBOX.run(tool.name, args, ctx.config, limit)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"tool-{tool.name}")
    try:
        future = pool.submit(tool.run, args, ctx)
        try:
            result = future.result(timeout=tool.timeout_s)
        except concurrent.futures.TimeoutError:
            raise RetryableToolError(f"{tool.name} timed out after {tool.timeout_s}s") from None
        return dict(result.model_dump(mode="json"))
    finally:
        pool.shutdown(wait=False)


@app.task(bind=True, name="triage.execute_step", max_retries=None)
def execute_step(self: Task[Any, Any], run_id: str, step_id: str) -> None:
    """Run one step of a run's plan: load the run once, attempt the tool, apply the decision."""
    rt = runtime()
    first = StepState(status="running", attempts=1, started_at=now(), owner=_me())
    run, started = rt.store.runs.start_step(run_id, step_id, first)  # a crash from here on is counted
    if run is None or run.plan is None or run.is_final:
        return
    step = run.plan.step(step_id)
    tool = get_tool(rt.catalog, step.tool)
    limits = Limits(rt.settings.dependency_wait_s, rt.settings.retry_scale, rt.settings.poison_threshold)
    state = run.steps[step_id] if started else _begin_again(rt, run, step_id, tool, limits)
    if state is None:
        return
    result, error, elapsed = _attempt(rt, run, step, tool)
    decision = decide(error, state, tool.retry, limits, now())
    _apply(self, rt, run, step_id, tool, state, decision, result, elapsed, error)


def _begin_again(
    rt: Runtime, run: Run, step_id: str, tool: Tool[Any, Any], limits: Limits
) -> StepState | None:
    """A step attempted before (a retry, a redelivery, a crash): its state for this attempt, or None when
    there is nothing to attempt (it is done, and what follows it was sent; or it was poison)."""
    state = run.steps.get(step_id, StepState())
    if state.settled:  # a redelivered task: the work is recorded, just carry on
        dispatch(rt, run)
        return None
    state, poisoned = after_crash(state, _owner_alive(state.owner), limits)
    if poisoned is not None:
        _give_up(rt, run, step_id, state, tool, 0.0, poisoned.why)
        return None
    state = state.model_copy(
        update={"status": "running", "attempts": state.attempts + 1, "started_at": now(), "owner": _me()}
    )
    rt.store.runs.save_step(run.id, step_id, state)  # a crash from here on is counted by the next attempt
    return state


def _attempt(
    rt: Runtime, run: Run, step: Step, tool: Tool[Any, Any]
) -> tuple[dict[str, Any], Exception | None, float]:
    """Call the tool once with its time limit: (its result, or the error it raised; the seconds it took)."""
    ctx = ToolContext(run.id, run.ticket.id, step.id, rt.store.ledger, rt.tool_config, llm=rt.llm,
                      usage=_Usage(rt.store.runs), hard_timeout_s=time_limits(tool)[1],
                      memory=rt.memory, incidents=rt.store.incidents if rt.incidents else None,
                      files=StoredMail(rt.store), kb=rt.kb)  # fmt: skip
    started = time.monotonic()
    try:
        if rt.settings.simulated_tool_latency_s:
            time.sleep(rt.settings.simulated_tool_latency_s)
        args = resolve_args(step.args, run.ticket, run.results(), run.recall)
        return run_with_timeout(tool, args, ctx), None, time.monotonic() - started
    except Exception as exc:  # every failure is decided on, none escapes unrecorded
        return {}, exc, time.monotonic() - started


def _apply(
    task: Task[Any, Any], rt: Runtime, run: Run, step_id: str, tool: Tool[Any, Any], state: StepState,
    decision: Decision, result: dict[str, Any], elapsed: float, error: Exception | None,
) -> None:  # fmt: skip
    """Record what the decision says and act on it: dispatch what follows, retry, wait, or dead-letter."""
    if isinstance(decision, Done):
        done = {"status": "done", "finished_at": now(), "duration_s": round(elapsed, 6), "result": result,
                "error": None}  # fmt: skip
        assert run.plan is not None
        progress = rt.store.runs.advance(run.id, run.plan, step_id, state.model_copy(update=done))
        events.step_attempted(run.id, run.ticket.id, step_id, tool.name, state.attempts, "success", elapsed)
        if tool.name == link_incident.name:
            events.incident_progress(run.id, result.get("incident_id"), result.get("opened", False),
                                     result.get("linked", []))  # fmt: skip
        follow(rt, run, progress)
    elif isinstance(decision, GiveUp) and tool.best_effort:  # the run goes on without it, and says so
        skipped = {"status": "skipped", "finished_at": now(), "duration_s": round(elapsed, 6),
                   "error": f"went on without it: {decision.why}"}  # fmt: skip
        assert run.plan is not None
        progress = rt.store.runs.advance(run.id, run.plan, step_id, state.model_copy(update=skipped))
        events.step_attempted(run.id, run.ticket.id, step_id, tool.name, state.attempts, "skipped", elapsed)
        follow(rt, run, progress)
    elif isinstance(decision, GiveUp):
        _give_up(rt, run, step_id, state, tool, elapsed, decision.why)
    elif isinstance(decision, Wait):  # not a failed attempt: the attempt is given back
        given_back = {"status": "retrying", "attempts": state.attempts - 1, "waiting_since": decision.since,
                      "error": decision.why}  # fmt: skip
        waiting = state.model_copy(update=given_back)
        raise _retry_later(
            task, rt, run, step_id, tool, waiting, "waiting", elapsed, decision.delay_s
        ) from error
    else:
        retrying = state.model_copy(update={"status": "retrying", "error": decision.why})
        raise _retry_later(
            task, rt, run, step_id, tool, retrying, "retry", elapsed, decision.delay_s
        ) from error


def _retry_later(
    task: Task[Any, Any], rt: Runtime, run: Run, step_id: str, tool: Tool[Any, Any], state: StepState,
    outcome: str, elapsed: float, delay: float,
) -> Exception:  # fmt: skip
    """Record the step as waiting for its next attempt and schedule it (the caller raises the result)."""
    rt.store.runs.save_step(run.id, step_id, state)
    events.step_attempted(run.id, run.ticket.id, step_id, tool.name, state.attempts, outcome, elapsed)
    soft, hard = time_limits(tool)
    return task.retry(countdown=delay, soft_time_limit=soft, time_limit=hard, throw=False)


def _give_up(
    rt: Runtime, run: Run, step_id: str, state: StepState, tool: Tool[Any, Any], elapsed: float, why: str
) -> None:
    failed = state.model_copy(
        update={"status": "failed", "finished_at": now(), "duration_s": round(elapsed, 6), "error": why}
    )
    rt.store.runs.save_step(run.id, step_id, failed)
    events.step_attempted(run.id, run.ticket.id, step_id, tool.name, state.attempts, "dead_letter", elapsed)
    fail_run(rt, run, f"step {step_id!r} ({tool.name}) failed: {why}")
