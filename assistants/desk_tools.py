"""What an assistant may do with the system over MCP, each tool with the role it needs and hints
derived from what it does: the desk's reads (runs by Message-ID, sender, issue key, subject or id; a
run in full; the review queue; dead letters; incidents), the review actions for approvers, and the
catalog's judgement tools (categorize and extract as the system would, nothing written anywhere)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import HTTPException
from mcp.types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from agent.autonomy import Decision, Edits
from agent.run import RunStatus, now
from agent.run_summary import category_of
from assistants.callers import Caller
from console import views
from console.api import RunDetail, Waiting, run_summary
from console.users import Role
from tasks.review import decide
from tasks.tool_call import run_with_timeout
from tools.base import Tool, ToolContext
from workers.runtime import Runtime

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_RunId = Annotated[str, Field(min_length=1, max_length=100)]


class Refused(Exception):
    """The call cannot be done as asked (no such run, not held, decided already): the caller is told."""


@dataclass(frozen=True)
class DeskTool:
    """One MCP tool: its name, what it is for, its arguments, the role it needs, its hints, and what
    it does (given the runtime, the caller and the validated arguments; returns JSON-able data)."""

    name: str
    description: str
    args: type[BaseModel]
    needs: Role
    annotations: ToolAnnotations
    call: Callable[[Runtime, Caller, Any], Any]
    schema: dict[str, Any] | None = None  # the arguments' JSON schema, when not the args model's own

    @property
    def input_schema(self) -> dict[str, Any]:
        """The JSON schema a client is shown for the arguments."""
        return self.schema or self.args.model_json_schema()


class NoArgs(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


class FindArgs(BaseModel):
    """Which runs: a search of run id, sender, subject, Message-ID and issue key; status, mailbox."""

    model_config = ConfigDict(extra="forbid")
    query: str = Field("", max_length=200, description="Message-ID, sender, issue key, subject or run id")
    status: RunStatus | None = None
    mailbox: str | None = Field(None, max_length=40)
    page: int = Field(0, ge=0, le=1000)


class RunArgs(BaseModel):
    """One run."""

    model_config = ConfigDict(extra="forbid")
    run_id: _RunId


class DaysArgs(BaseModel):
    """How far back."""

    model_config = ConfigDict(extra="forbid")
    days: int = Field(7, ge=1, le=366)


class ApproveArgs(BaseModel):
    """A held run to approve, with a person's edits of its issue (validated like any plan)."""

    model_config = ConfigDict(extra="forbid")
    run_id: _RunId
    reason: str = Field("", max_length=500)
    edits: Edits = Field(default_factory=Edits)


class RejectArgs(BaseModel):
    """A held run to close without its side effects, and why."""

    model_config = ConfigDict(extra="forbid")
    run_id: _RunId
    reason: str = Field(min_length=1, max_length=500)


def _find(rt: Runtime, caller: Caller, args: FindArgs) -> dict[str, Any]:
    wanted = views.RunFilter(status=args.status, mailbox=args.mailbox, text=args.query, within=caller.within)
    found = views.find_runs(rt.store, wanted, offset=args.page * views.PAGE)
    return {"runs": [run_summary(r).model_dump(mode="json") for r in found.runs], "more": found.more}


def _run(rt: Runtime, caller: Caller, args: RunArgs) -> dict[str, Any]:
    run = views.visible_run(rt.store, args.run_id, caller.within)
    if run is None:
        raise Refused(f"no run {args.run_id}")
    hold, decision = rt.store.reviews.held(run.id), rt.store.reviews.decision(run.id)
    return RunDetail(run=run, hold=hold, decision=decision).model_dump(mode="json")


def _queue(rt: Runtime, caller: Caller, _: NoArgs) -> list[dict[str, Any]]:
    return [
        Waiting(hold=h, subject=r.ticket.subject if r else None, category=r and category_of(r)).model_dump(
            mode="json"
        )
        for h, r in views.review_queue(rt.store, caller.within)
    ]


def _dead(rt: Runtime, caller: Caller, _: NoArgs) -> list[dict[str, Any]]:
    return [run_summary(r).model_dump(mode="json") for r in rt.store.runs.dead_letters(caller.within)]


def _incidents(rt: Runtime, caller: Caller, args: DaysArgs) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in views.incidents(rt.store, args.days, caller.within)]


def _decide(rt: Runtime, caller: Caller, run_id: str, decision: Decision) -> dict[str, str]:
    try:
        views.require_run(rt.store, run_id, caller.within)
    except HTTPException:
        raise Refused(f"no run {run_id}") from None
    decide(rt, run_id, decision)  # NotDecided says why not (held no longer, decided already, bad edit)
    return {"id": run_id, "action": decision.action}


def _approve(rt: Runtime, caller: Caller, args: ApproveArgs) -> dict[str, str]:
    decision = Decision(action="approve", by=caller.name, reason=args.reason, at=now(), edits=args.edits)
    return _decide(rt, caller, args.run_id, decision)


def _reject(rt: Runtime, caller: Caller, args: RejectArgs) -> dict[str, str]:
    decision = Decision(action="reject", by=caller.name, reason=args.reason, at=now())
    return _decide(rt, caller, args.run_id, decision)


def judging(tool: Tool[Any, Any]) -> DeskTool:
    """A catalog tool that only judges (no side effect, nothing remembered), called as a step would
    call it, with its time limit, on what the caller gives: "categorize this the way the system would"."""

    def call(rt: Runtime, caller: Caller, args: BaseModel) -> Any:
        call_id = f"mcp-{uuid.uuid4().hex[:16]}"
        ctx = ToolContext(
            call_id, call_id, tool.name, rt.store.ledger, rt.tool_config, llm=rt.llm, pacer=rt.pacer
        )
        return run_with_timeout(tool, args.model_dump(), ctx)

    hints = ToolAnnotations(read_only_hint=True, idempotent_hint=True)
    return DeskTool(tool.name, tool.description, tool.args_model, "viewer", hints, call, tool.args_schema())


APPROVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
REJECT = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True)
DESK_TOOLS = [
    DeskTool(
        "find_runs",
        "Find mails and what became of them, newest first: search by Message-ID, sender, issue key, "
        "subject or run id; filter by status and mailbox.",
        FindArgs,
        "viewer",
        READ,
        _find,
    ),
    DeskTool(
        "get_run",
        "One run in full: the ticket, its plan, each step's result, its hold and the decision on it.",
        RunArgs,
        "viewer",
        READ,
        _run,
    ),
    DeskTool(
        "review_queue", "The runs held for a person's decision, oldest first.", NoArgs, "viewer", READ, _queue
    ),
    DeskTool(
        "dead_letters",
        "Runs that could not complete, oldest first, each with why.",
        NoArgs,
        "viewer",
        READ,
        _dead,
    ),
    DeskTool(
        "incidents",
        "Outages several customers reported, with their reports and problem issue.",
        DaysArgs,
        "viewer",
        READ,
        _incidents,
    ),
    DeskTool(
        "approve_run",
        "Approve a held run (its issue and acknowledgement go out), with edits of its issue; approving "
        "twice runs once.",
        ApproveArgs,
        "approver",
        APPROVE,
        _approve,
    ),
    DeskTool(
        "reject_run",
        "Close a held run without its side effects, saying why.",
        RejectArgs,
        "approver",
        REJECT,
        _reject,
    ),
]
