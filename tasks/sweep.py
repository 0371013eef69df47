"""The sweeper: finds runs a crash or a lost message left behind and sends their work again.

Everything it sends is safe to receive twice (plans are stored once, finished steps are skipped,
side effects are in the ledger), so it errs on the side of sending.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from agent.memory.chroma import MemoryUnavailable
from agent.plan import Plan
from agent.run import now
from tasks.execute import dispatch, execute_step
from tasks.ingest import admitted
from tasks.plan import plan_run
from tasks.review import expire_holds
from tasks.tool_call import message_limits, time_limits
from tasks.turns import queue_for_planning, top_up
from tools import outbox
from tools.catalog import get_tool
from workers.app import app
from workers.heartbeat import GONE_AFTER_S
from workers.runtime import Runtime, runtime

log = logging.getLogger("triage")


def sweep_runs() -> dict[str, int]:
    """One pass over the active runs; returns what was sent again, by reason."""
    rt = runtime()
    store = rt.store
    stale_s = rt.settings.sweep_stale_s
    sent = {"plans": 0, "crashed_steps": 0, "lost_steps": 0, "finished": 0, "released": 0}
    alive = store.workers.processes(whole_after_s=GONE_AFTER_S)
    for run_id in store.runs.active_ids():
        run = store.runs.get(run_id)
        if run is None or run.is_final:
            store.runs.forget_active(run_id)
            continue
        if run.status == "held":  # its claimed steps wait for a person (or the timeout below), not lost
            continue
        if run.status == "deferred":  # its sender passed the hour's ceiling: planned once the hour allows
            if admitted(rt, run.ticket.sender):
                store.runs.set_status(run_id, "planning")
                queue_for_planning(rt, run)
                sent["released"] += 1
            continue
        if run.plan is None:
            if store.fair.is_waiting(run_id):  # its turn has not come yet
                continue
            took_turn = store.fair.admitted_at(run_id)
            age = time.time() - took_turn if took_turn else (now() - run.created_at).total_seconds()
            if age > stale_s:
                plan_run.apply_async((run_id,))
                sent["plans"] += 1
            continue
        if all(s.settled for s in run.steps.values()):
            dispatch(rt, run)  # the step that finished last died before closing the run
            sent["finished"] += 1
            continue
        for step in run.plan.steps:
            state = run.steps.get(step.id)
            tool = get_tool(rt.catalog, step.tool)
            if state is None or state.settled:
                continue
            if state.status == "running" and state.started_at is not None:
                running_s = (now() - state.started_at).total_seconds()
                # No live attempt runs this long; or its process is no worker's any more (its host died).
                if running_s > time_limits(tool)[1] + 30 or owner_gone(state.owner, running_s, alive):
                    _resend(rt, run_id, run.plan, step.id)
                    sent["crashed_steps"] += 1
            elif state.status in ("pending", "retrying"):
                # Queued (or due for a retry) but nothing happened for longer than any backoff: the
                # message was lost (a Redis restart, a worker that held the retry and died).
                dispatched = store.runs.dispatched_at(run_id, step.id)
                last = max(dispatched or 0.0, state.started_at.timestamp() if state.started_at else 0.0)
                overdue = stale_s + tool.retry.cap_s * rt.settings.retry_scale
                if dispatched is not None and time.time() - last > overdue:
                    _resend(rt, run_id, run.plan, step.id)
                    sent["lost_steps"] += 1
    sent["turns"] = top_up(rt)
    # Outbox lines, incidents and memory entries expire with the runs they belong to.
    cutoff = time.time() - rt.settings.retention_s
    sent["expired_outbox_lines"] = sum(outbox.expire(path, cutoff) for path in rt.tool_config.outboxes)
    sent["expired_incidents"] = store.incidents.trim()
    sent["expired_holds"] = expire_holds(rt)
    if rt.memory is not None:
        try:
            sent["expired_memory_entries"] = rt.memory.expire(
                now() - timedelta(seconds=rt.settings.retention_s)
            )
        except MemoryUnavailable as exc:  # the next sweep tries again
            log.warning("sweep could not expire memory entries: %s", exc)
    if any(sent.values()):
        log.warning("sweep sent work again: %s", " ".join(f"{k}={v}" for k, v in sent.items()))
    return sent


def owner_gone(owner: str | None, running_s: float, alive: set[str] | None) -> bool:
    """True when the process running a step is no live worker's (a host that died beats no more), once
    the step has run longer than a beat takes to go stale; unknown when no worker beats at all."""
    return alive is not None and running_s > GONE_AFTER_S and owner is not None and owner not in alive


def _resend(rt: Runtime, run_id: str, plan: Plan, step_id: str) -> None:
    """Send a step's message again, with the time limits a message of that step has."""
    soft, hard = message_limits(rt.catalog, plan, step_id)
    execute_step.apply_async((run_id, step_id), soft_time_limit=soft, time_limit=hard)


@app.task(name="triage.sweep")
def sweep() -> dict[str, Any]:
    """Beat task: sweep once."""
    return sweep_runs()
