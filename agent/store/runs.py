"""Runs: one Redis hash per run (its ticket, plan, each step's state) and the indexes of runs.

The runs room: this module, the hash's layout (run_layout.py) and its Lua scripts (run_scripts.py) are
the only code that touches a run's keys. Every write that decides something (the plan of a run, who
dispatches a step, who looks at the results, who finishes a run) is a single atomic Redis command, so
concurrent or redelivered tasks agree on one winner.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

import agent.store.run_layout as layout
from agent.keys import Keys
from agent.memory.recall import Recall
from agent.plan import Plan, waits_for
from agent.planner import Planned
from agent.run import Observation, Run, RunStatus, StepState, now
from agent.store.codec import as_text
from agent.store.run_layout import parse_run
from agent.store.run_listing import RunListing
from agent.store.run_scripts import ADVANCE, CREATE, FINISH, START
from inbox.ticket import Ticket
from tools.llm import Usage


@dataclass(frozen=True)
class Progress:
    """What advancing a run decided: the steps this caller claimed (and must send), and whether it closed
    the run (outcome 1), claimed the planner's look at the results (2; 0 otherwise, -1 the run is gone,
    -2 another plan or another look's extension was stored first)."""

    outcome: int
    claimed: list[str]

    @property
    def closed(self) -> bool:
        """True for the one caller that found every step done and closed the run."""
        return self.outcome == 1

    @property
    def observe(self) -> bool:
        """True for the one caller that found every step done while the planner may still look at the
        results: it must send the look (tasks/observe.py) instead of closing the run."""
        return self.outcome == 2


class Runs(RunListing):
    """Create, read and advance runs; the dead-letter list; the operator's reopen and discard. The lists
    of runs (newest, a page, counts by status, dead letters) come from RunListing."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s
        self._create = client.register_script(CREATE)
        self._finish = client.register_script(FINISH)
        self._advance = client.register_script(ADVANCE)
        self._start = client.register_script(START)

    def create(self, run_id: str, ticket: Ticket, trace: str | None = None) -> bool:
        """Create a run for a ticket (`trace`: its mail's traceparent); False when it exists already (a
        redelivered ingest)."""
        created = now()
        fields = {
            "ticket": ticket.model_dump_json(),
            "status": "planning",
            "created_at": created.isoformat(),
            "mailbox": ticket.mailbox,  # read alone by the lists for a user limited to mailboxes
        } | ({"trace": trace} if trace else {})
        args: list[str | int] = [self.retention_s, *(x for kv in fields.items() for x in kv)]
        if not self._create(keys=[self.keys.run(run_id)], args=args):
            return False
        pipe = self.redis.pipeline()
        pipe.zadd(self.keys.runs, {run_id: created.timestamp()})
        pipe.zadd(self.keys.active_runs, {run_id: created.timestamp()})
        pipe.zremrangebyscore(self.keys.runs, 0, created.timestamp() - self.retention_s)
        pipe.execute()
        return True

    def start_step(self, run_id: str, step_id: str, running: StepState) -> tuple[Run | None, bool]:
        """Load a run and, if the step was never attempted and the run is running, store `running` as its
        state in the same atomic round trip. Returns the run as it now is, and whether `running` was
        stored (if not, the caller decides from the state it finds)."""
        field = f"{layout.STEP}{step_id}"
        marked, flat = self._start(keys=[self.keys.run(run_id)], args=[field, running.model_dump_json()])
        return parse_run(run_id, dict(zip(flat[::2], flat[1::2], strict=True))), bool(marked)

    def set_status(self, run_id: str, status: RunStatus) -> None:
        """Move a run to a non-final status."""
        self.redis.hset(self.keys.run(run_id), "status", status)

    def save_plan(
        self, run_id: str, planned: Planned, recall: Recall | None = None, observe: tuple[int, float] = (0, 0)
    ) -> Progress | None:
        """Store the run's plan with its planner, notes and what memory recalled (the first plan wins) and
        claim the steps that need no other; None when another plan was stored first (or the run is gone).
        `observe`: the rounds in which the planner may look at the results and extend the plan before
        the run closes, and the seconds one look may take before another process may take it over."""
        fields = {
            "planner": planned.planner,
            "planner_notes": json.dumps(planned.notes),
            "status": "running",
            layout.PLAN_SIZE: str(len(planned.plan.steps)),
            **{f"{layout.STEP}{s.id}": StepState().model_dump_json() for s in planned.plan.steps},
        }
        if observe[0] > 0:
            fields |= {
                layout.OBSERVE_LEFT: str(observe[0]),
                layout.OBSERVE_WITHIN: str(observe[1]),
                layout.OBSERVING: "0",
            }
        if planned.prompt_version:
            fields["prompt_version"] = planned.prompt_version
        if recall is not None:
            fields["recall"] = recall.model_dump_json()
        progress = self._advance_run(run_id, planned.plan, fields, ("plan", planned.plan.model_dump_json()))
        return progress if progress.outcome >= 0 else None

    def extend_plan(self, run_id: str, plan: Plan, look: Observation, rounds_left: int) -> Progress | None:
        """Record the planner's look at the results (`look.round`, once: the first to record it wins) with
        the plan it leads to (the old steps and any it added, pending), then claim the added steps that
        are ready, or close the run when nothing was added. None when this round was recorded already.
        `rounds_left`: the looks still allowed after this one (0 once the planner added nothing)."""
        fields = {
            "plan": plan.model_dump_json(),
            layout.PLAN_SIZE: str(len(plan.steps)),
            layout.OBSERVE_LEFT: str(rounds_left if look.added else 0),
            layout.OBSERVING: "0",
            **{f"{layout.STEP}{sid}": StepState().model_dump_json() for sid in look.added},
        }
        guard = (f"{layout.OBSERVATION}{look.round}", look.model_dump_json())
        progress = self._advance_run(run_id, plan, fields, guard)
        return progress if progress.outcome >= 0 else None

    def release_observe(self, run_id: str) -> None:
        """Undo a claim of the planner's look whose task could not be sent, so it can be claimed again."""
        self.redis.hset(self.keys.run(run_id), layout.OBSERVING, "0")

    def replace_plan(self, run_id: str, plan: Plan) -> None:
        """Store a person's edit of a held run's plan (validated by the caller; its steps are the same)."""
        self.redis.hset(self.keys.run(run_id), "plan", plan.model_dump_json())

    def record_usage(self, run_id: str, usage: Usage) -> None:
        """Add LLM usage to a run's totals (planner and tools add concurrently; each field atomically)."""
        key = self.keys.run(run_id)
        pipe = self.redis.pipeline()
        for name in ("calls", "prompt_tokens", "completion_tokens", "repairs", "fallbacks"):
            if value := getattr(usage, name):
                pipe.hincrby(key, f"{layout.USAGE}{name}", value)
        for name in ("latency_s", "cost_usd"):
            if value := getattr(usage, name):
                pipe.hincrbyfloat(key, f"{layout.USAGE}{name}", value)
        pipe.execute()

    def index_issue(self, issue_key: str, run_id: str) -> None:
        """Note that this run opened or commented on the issue (idempotent: a redelivered step notes it
        again)."""
        key = self.keys.issue_runs(issue_key)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {run_id: time.time()}, nx=True)
        pipe.expire(key, self.retention_s)
        pipe.execute()

    def with_issue(self, issue_key: str) -> list[str]:
        """Ids of the runs that opened or commented on the issue, oldest first (the opener first)."""
        return [as_text(i) for i in self.redis.zrange(self.keys.issue_runs(issue_key), 0, -1)]

    def dispatched_at(self, run_id: str, step_id: str) -> float | None:
        """When a step was handed to the queue (unix seconds), or None if it was not."""
        value = self.redis.hget(self.keys.run(run_id), f"{layout.DISPATCHED}{step_id}")
        return float(value) if value is not None else None

    def release_dispatch(self, run_id: str, step_id: str) -> None:
        """Undo a dispatch claim whose enqueue failed, so the step can be dispatched again."""
        self.redis.hdel(self.keys.run(run_id), f"{layout.DISPATCHED}{step_id}")

    def active_ids(self) -> list[str]:
        """Runs not yet final (the sweeper's work list)."""
        return [as_text(i) for i in self.redis.zrange(self.keys.active_runs, 0, -1)]

    def forget_active(self, run_id: str) -> None:
        """Drop a run from the active set (it expired or is final)."""
        self.redis.zrem(self.keys.active_runs, run_id)

    def save_step(self, run_id: str, step_id: str, state: StepState) -> None:
        """Write one step's state (each step's field is written only by that step's task)."""
        self.redis.hset(self.keys.run(run_id), f"{layout.STEP}{step_id}", state.model_dump_json())

    def advance(self, run_id: str, plan: Plan, step_id: str = "", state: StepState | None = None) -> Progress:
        """Record a step's final state (if given), then, in the same atomic round trip, close the run when
        every step is done or claim the steps now ready: the steps finishing at the same time each see the
        others, so exactly one of them sends each next step, and one closes the run."""
        fields = {f"{layout.STEP}{step_id}": state.model_dump_json()} if state is not None else {}
        return self._advance_run(run_id, plan, fields)

    def _advance_run(
        self, run_id: str, plan: Plan, fields: dict[str, str], guard: tuple[str, str] = ("", "")
    ) -> Progress:
        finished = now()
        graph = [x for step in plan.steps for x in (step.id, ",".join(sorted(waits_for(plan, step))))]
        pairs = [x for kv in fields.items() for x in kv]
        args: list[str | float] = [
            finished.isoformat(),
            time.time(),
            run_id,
            *guard,
            len(fields),
            *pairs,
            *graph,
        ]
        outcome, claimed = self._advance(keys=[self.keys.run(run_id), self.keys.active_runs], args=args)
        return Progress(int(outcome), [as_text(c) for c in claimed])

    def finish(self, run_id: str, status: RunStatus, error: str | None = None) -> bool:
        """Close a run as done or dead_letter (a dead letter is kept until an operator acts); True for the
        one caller that closed it. One atomic round trip."""
        finished = now()
        keys = [self.keys.run(run_id), self.keys.active_runs, self.keys.dead_letters]
        args: list[str | float] = [finished.isoformat(), status, error or "", finished.timestamp(), run_id]
        return bool(self._finish(keys=keys, args=args))

    def reopen(self, run_id: str) -> list[str]:
        """Take a dead-lettered run back: unfinished steps start afresh; returns their ids."""
        run = self.get(run_id)
        if run is None or run.status != "dead_letter":
            raise ValueError(f"run {run_id} is not in the dead-letter list")
        key = self.keys.run(run_id)
        again = [sid for sid, state in run.steps.items() if not state.settled]
        pipe = self.redis.pipeline()
        pipe.hdel(key, "finished_at", "error", *(f"{layout.DISPATCHED}{sid}" for sid in again))
        for sid in again:
            pipe.hset(key, f"{layout.STEP}{sid}", StepState().model_dump_json())
        pipe.hset(key, "status", "running" if run.plan is not None else "planning")
        pipe.zrem(self.keys.dead_letters, run_id)
        pipe.zadd(self.keys.active_runs, {run_id: time.time()})
        pipe.expire(key, self.retention_s)
        pipe.execute()
        return again

    def discard(self, run_id: str) -> None:
        """Close a dead-lettered run for good (it expires with the retention)."""
        run = self.get(run_id)
        if run is None or run.status != "dead_letter":
            raise ValueError(f"run {run_id} is not in the dead-letter list")
        pipe = self.redis.pipeline()
        pipe.hset(self.keys.run(run_id), "status", "discarded")
        pipe.zrem(self.keys.dead_letters, run_id)
        pipe.expire(self.keys.run(run_id), self.retention_s)
        pipe.execute()

    def all_ids(self) -> set[str]:
        """Every run id the indexes know (recent, in progress, dead-lettered)."""
        ids: set[str] = set()
        for index in (self.keys.runs, self.keys.dead_letters, self.keys.active_runs):
            ids.update(as_text(i) for i in self.redis.zrange(index, 0, -1))
        return ids

    def erase(self, run_id: str) -> None:
        """Delete a run and its place in every index (an erasure request)."""
        run = self.get(run_id)
        pipe = self.redis.pipeline()
        pipe.delete(self.keys.run(run_id))
        for index in (self.keys.runs, self.keys.active_runs, self.keys.dead_letters):
            pipe.zrem(index, run_id)
        for issue_key in run.issue_keys() if run is not None else []:
            pipe.zrem(self.keys.issue_runs(issue_key), run_id)
        pipe.execute()
