"""The layout of a run's Redis hash: its field names, and the Run they make.

Part of the runs room: runs.py writes these fields (its Lua scripts in run_scripts.py too), and a run is
read back only through parse_run.

Fields: ticket, status, created_at, finished_at, error, planner, planner_notes, prompt_version, plan,
recall, trace; one `step:<id>` per step (its StepState), `dispatched:<id>` (when it was handed to the queue),
`usage:<name>` (LLM usage totals), `observation:<round>` (the planner's looks at the results).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agent.run import Observation, Run, StepState
from agent.store.codec import as_text

STEP = "step:"
USAGE = "usage:"
DISPATCHED = "dispatched:"
OBSERVATION = "observation:"
# How many steps the stored plan has: a caller holding an older, shorter plan (the run was extended since
# it read it) must not find "every step done" and close the run.
PLAN_SIZE = "plan_size"
# Observe, then act: rounds the planner may still extend the plan in, how long one look may take before
# another may claim it, and when the current look was claimed (0: nobody looks).
OBSERVE_LEFT = "observe_left"
OBSERVE_WITHIN = "observe_within"
OBSERVING = "observing"


def parse_run(run_id: str, fields: Mapping[Any, Any]) -> Run | None:
    """The run a hash's fields hold, or None for a hash without a ticket (gone, or never created)."""
    raw = {as_text(k): as_text(v) for k, v in fields.items()}
    if "ticket" not in raw:
        return None
    steps = {k[len(STEP) :]: StepState.model_validate_json(v) for k, v in raw.items() if k.startswith(STEP)}
    looks = [Observation.model_validate_json(v) for k, v in raw.items() if k.startswith(OBSERVATION)]
    return Run.model_validate(
        {
            "id": run_id,
            "ticket": json.loads(raw["ticket"]),
            "status": raw["status"],
            "created_at": raw["created_at"],
            "finished_at": raw.get("finished_at"),
            "planner": raw.get("planner"),
            "planner_notes": json.loads(raw.get("planner_notes", "[]")),
            "plan": json.loads(raw["plan"]) if "plan" in raw else None,
            "steps": steps,
            "error": raw.get("error"),
            "prompt_version": raw.get("prompt_version"),
            "recall": json.loads(raw["recall"]) if "recall" in raw else None,
            "usage": {k[len(USAGE) :]: float(v) for k, v in raw.items() if k.startswith(USAGE)},
            "observations": sorted(looks, key=lambda o: o.round),
            "trace": raw.get("trace"),
        }
    )
