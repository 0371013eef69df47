"""A side-effecting catalog tool called by an assistant over MCP: as one more step of a finished run,
never past the system's own checks. The step is judged with the run's plan by the plan policy (the
ticket's own sender and issue, one issue, one acknowledgement, what only a person may set), its
references resolved against the run, and it runs under the exactly-once ledger with the caller's
idempotency key as its step: a retried call finds what the first did, and a call with another key of
the same tool for the same ticket is refused (the policy sees the run's plan, not earlier calls). Every
call is kept in the audit trail with who made it and how it ended."""

from __future__ import annotations

import hashlib
from typing import Any

from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from agent.pins import filled
from agent.plan import Plan, PlanInvalid, Step, resolve_args
from agent.policy import review_extension
from assistants.callers import Caller
from assistants.desk_tools import DeskTool, Refused
from console import views
from tasks.step_context import step_context
from tasks.tool_call import run_with_timeout
from tools import ledger_keys
from tools.base import Tool
from workers.runtime import Runtime

ACTING = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
# A run a person held or rejected is theirs to decide; a run still going has its own steps to finish.
_OPEN_TO_CALLS = ("done", "dead_letter")


class StepCall(BaseModel):
    """The run the call is a step of, its idempotency key, and the tool's arguments as a plan's step
    gives them: literals where the tool allows them, else {"$ref": "ticket.<field>"} or
    {"$ref": "steps.<step id>.<field>"} of the run (its own sender and ids are filled in)."""

    model_config = ConfigDict(extra="forbid")
    run_id: str = Field(min_length=1, max_length=100)
    idempotency_key: str = Field(
        pattern=r"^[A-Za-z0-9_.:-]{8,128}$", description="the same key: the same call (a UUID will do)"
    )
    args: dict[str, Any] = Field(default_factory=dict)


def step_id_of(idempotency_key: str) -> str:
    """The step a call's key makes (a step id is short, lowercase): the same key, the same step."""
    return f"mcp_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"


def _schema(tool: Tool[Any, Any]) -> dict[str, Any]:
    schema = StepCall.model_json_schema()
    schema["properties"]["args"] = {**tool.args_schema(), "description": StepCall.__doc__}
    return schema


def acting(tool: Tool[Any, Any]) -> DeskTool:
    """The MCP tool calling `tool` as a step of a finished run (admins: it reaches Jira or a customer)."""

    def call(rt: Runtime, caller: Caller, given: StepCall) -> Any:
        run = views.visible_run(rt.store, given.run_id, caller.within)
        if run is None or run.plan is None:
            raise Refused(f"no run {given.run_id} with a plan")
        if run.status not in _OPEN_TO_CALLS:
            raise Refused(f"run {run.id} is {run.status}: only a done or dead-lettered run takes a step")
        step = Step(id=step_id_of(given.idempotency_key), tool=tool.name, args=given.args)
        called = Plan(steps=[step], rationale=f"called over MCP by {caller.name}")
        added = filled(called, around=run.plan, catalog=rt.catalog)
        try:
            review_extension(
                run.plan, added, run.ticket, rt.catalog, max_steps=rt.settings.max_plan_steps + 5
            )
        except PlanInvalid as exc:
            raise Refused(f"the policy refuses the call: {exc}") from None
        [step] = added.steps
        args = resolve_args(step.args, run.ticket, run.results(), run.recall)
        first = rt.store.ledger.claim(ledger_keys.assistant_call(run.ticket.id, tool.name), {"key": step.id})[
            1
        ]
        if first["key"] != step.id:
            raise Refused(f"{tool.name} was called for run {run.id} already, with another idempotency key")
        audit = {"by": caller.name, "key": given.idempotency_key}
        try:
            result = run_with_timeout(tool, args, step_context(rt, run, step.id, tool))
        except Exception as exc:
            rt.store.operations.record_audit(f"mcp:{tool.name}", run.id, f"failed: {exc}", **audit)
            raise
        rt.store.operations.record_audit(f"mcp:{tool.name}", run.id, "done", **audit)
        return result

    return DeskTool(tool.name, tool.description, StepCall, "admin", ACTING, call, _schema(tool))
