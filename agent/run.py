"""What the run store records: deliveries (one per inbound message), runs and their step states."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from agent.memory.recall import Recall
from agent.plan import Plan
from inbox.ticket import Ticket
from tools.llm import Usage

# deferred: its sender passed TRIAGE_SENDER_MAX_PER_HOUR; the sweeper plans it when the sender's hour allows.
RunStatus = Literal["planning", "deferred", "running", "held", "done", "dead_letter", "discarded", "rejected"]
StepStatus = Literal["pending", "running", "retrying", "done", "skipped", "failed"]
# A settled step is over and what depends on it may run: done, or skipped (a best-effort tool gave up).
SETTLED_STEP_STATUSES: frozenset[str] = frozenset({"done", "skipped"})
DeliveryOutcome = Literal["ticket", "threaded", "automated", "duplicate", "quarantined", "spam"]
HELD_OUTCOMES: frozenset[str] = frozenset({"quarantined", "spam"})  # kept for a person to look at
SUBJECT_KEPT = 200  # characters of a subject a delivery record keeps (for finding it, not reading it)
FINAL_RUN_STATUSES: frozenset[str] = frozenset({"done", "dead_letter", "discarded", "rejected"})


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


class Delivery(BaseModel):
    """The outcome of one inbound message: a run (ticket or threaded reply) or why there is none."""

    delivery_id: str
    source: str
    key: str
    mailbox: str = Field("default", description="the desk's name for the mailbox it came from")
    message_id: str | None = None
    sender: str | None = Field(None, description="the From address, as ingest read it")
    subject: str | None = Field(None, description=f"the first {SUBJECT_KEPT} characters of the subject")
    outcome: DeliveryOutcome
    run_id: str | None = None
    reason: str | None = None
    at: datetime = Field(default_factory=now)

    @field_validator("subject")
    @classmethod
    def _cut(cls, subject: str | None) -> str | None:
        return subject[:SUBJECT_KEPT] if subject is not None else None


class StepState(BaseModel):
    """One step's progress: attempts, timing, result or error."""

    status: StepStatus = "pending"
    attempts: int = Field(default=0, description="attempts that ran and failed or succeeded (waits excluded)")
    waiting_since: datetime | None = Field(
        default=None, description="first time the step found a dependency missing"
    )
    crashes: int = Field(default=0, description="attempts whose worker died while running them")
    owner: str | None = Field(default=None, description="host:pid of the process running the latest attempt")
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def settled(self) -> bool:
        """True once the step is over for good: done, or skipped by a best-effort tool that gave up."""
        return self.status in SETTLED_STEP_STATUSES


class Observation(BaseModel):
    """One look the planner took at a run's results before the run closed (observe, then act), and what
    it added to the plan: steps, or nothing (it saw no need, or its proposals broke policy, or the model
    could not be asked), with the reasons."""

    round: int = Field(ge=1)
    at: datetime
    outcome: Literal["extended", "nothing", "rejected", "unavailable"]
    added: list[str] = Field(default_factory=list, description="ids of the steps appended to the plan")
    notes: list[str] = Field(default_factory=list, description="rejected proposals and other reasons")


class Run(BaseModel):
    """Everything about processing one ticket: the ticket, its plan, each step, the final status."""

    id: str
    ticket: Ticket
    status: RunStatus
    created_at: datetime
    finished_at: datetime | None = None
    planner: str | None = None
    planner_notes: list[str] = Field(default_factory=list)
    prompt_version: str | None = None
    plan: Plan | None = None
    steps: dict[str, StepState] = Field(default_factory=dict)
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    recall: Recall | None = Field(default=None, description="what memory recalled when the run was planned")
    observations: list[Observation] = Field(
        default_factory=list, description="the planner's looks at the results, oldest first"
    )
    trace: str | None = Field(
        default=None, description="the W3C traceparent of its mail's ingest span (tracing on): its trace"
    )

    @property
    def is_final(self) -> bool:
        """True once the run is done or dead-lettered."""
        return self.status in FINAL_RUN_STATUSES

    def results(self) -> dict[str, dict[str, Any]]:
        """Results of the finished steps, by step id: what later steps may reference. A skipped step
        (a best-effort tool gave up) has none: each of its fields reads as null."""
        done = {sid: s.result for sid, s in self.steps.items() if s.status == "done" and s.result is not None}
        return {sid: {} for sid, s in self.steps.items() if s.status == "skipped"} | done

    @property
    def trace_id(self) -> str | None:
        """The id of its trace (32 hex digits, from the W3C traceparent): what a trace viewer's address
        names; None when the run was made without tracing."""
        parts = (self.trace or "").split("-")
        found = parts[1] if len(parts) == 4 else ""
        return found if len(found) == 32 and not found.strip("0123456789abcdef") else None

    def issue_keys(self) -> list[str]:
        """The Jira issues (or dry-run keys) the run's steps opened or commented on, in plan order."""
        states = [self.steps.get(step.id) for step in self.plan.steps] if self.plan else []
        found = [(s.result or {}).get("issue_key") for s in states if s is not None and s.status == "done"]
        return list(dict.fromkeys(k for k in found if isinstance(k, str) and k))
