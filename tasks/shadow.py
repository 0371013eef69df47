"""Shadow runs: with TRIAGE_SHADOW_MODEL set, every run that finishes is planned again by that model
beside production (agent/replay.py: its tools answered from the run's record, its side effects captured,
never sent), and what it came to is recorded for `triage replay --shadow`. Production never waits on
it: it runs after the run closed, on the plan queue, and a failure is logged, never retried."""

from __future__ import annotations

import logging

from agent.llm_planner import PROMPT_VERSION
from agent.replay import Candidate
from tasks.execute import SHADOW_TASK
from workers.app import app
from workers.candidates import candidate_of
from workers.runtime import Runtime, runtime

log = logging.getLogger("triage")

# By runtime and model; the runtime is kept with its candidate, so its id is not reused by another.
_candidates: dict[tuple[int, str], tuple[Runtime, Candidate]] = {}


@app.task(name=SHADOW_TASK, ignore_result=True)
def shadow_run(run_id: str) -> None:
    """Plan a finished run again with the shadow model and record the case (once the run is final)."""
    rt = runtime()
    model = rt.settings.shadow_model
    run = rt.store.runs.get(run_id)
    if model is None or run is None or not run.is_final or run.plan is None:
        return
    desk = rt.desk(run.ticket.mailbox)
    try:
        case = _candidate(rt, model).replay(run, (desk.tool_config, desk.kb))
    except Exception:  # the shadow must never cost production anything but this line
        log.exception("shadow run failed run=%s model=%s", run_id, model)
        return
    rt.store.shadows.record(case)
    agreed = "agrees" if case.agrees_with_production else "differs"
    log.info("shadow run=%s model=%s %s tokens=%d", run_id, model, agreed, case.tokens)


def _candidate(rt: Runtime, model: str) -> Candidate:
    """This process's candidate of the shadow model (built once per runtime)."""
    key = (id(rt), model)
    if key not in _candidates:
        _candidates[key] = (rt, candidate_of(rt, model, PROMPT_VERSION))
    return _candidates[key][1]
