"""Replay: a candidate planner and observer (another model, another prompt) on a recorded run, with the
tools answered from the record and side effects captured, never sent; what it came to, beside what
production did and what people later corrected.

A run keeps what its plan and tools saw: the ticket, what memory recalled, each step's result. The
candidate plans the same ticket with the same recall; each of its steps is answered by the recorded
result of the production step that called the same tool; a step production never ran is run offline
(no model, a ledger that refuses side effects) when its tool has no side effect, and captured (its
arguments kept, a stand-in result given) when it has one. Nothing is written anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_origin

from pydantic import BaseModel, Field

from agent.observer import Observer
from agent.plan import Plan, Step, resolve_args
from agent.planner import Planner
from agent.run import Run, StepState
from agent.run_summary import summarize
from tools.base import Tool, ToolConfig, ToolContext
from tools.kb_port import KnowledgeSearch
from tools.ledger_port import MemoryLedger
from tools.llm import LLM, Usage


class Side(BaseModel):
    """What one side (production, or the candidate) came to for a run."""

    planner: str | None
    tools: list[str]
    category: str | None
    urgency: str | None


class ReplayCase(BaseModel):
    """One recorded run replayed: both sides, what the candidate would have done outside, and the cost."""

    run_id: str
    mailbox: str
    production: Side
    candidate: Side
    captured: list[dict[str, Any]] = Field(description="side effects the candidate called for, never sent")
    corrected: dict[str, str] | None = Field(description="what people later set in Jira, if they did")
    agrees_with_production: bool
    agrees_with_people: bool | None
    tokens: int
    cost_usd: float
    latency_s: float
    notes: list[str] = Field(default_factory=list)


class Candidate:
    """The planner and observer being tried, over the catalog production used."""

    def __init__(
        self,
        planner: Planner,
        observer: Observer | None,
        catalog: Mapping[str, Tool[Any, Any]],
        llm: LLM | None = None,
    ) -> None:
        self.planner, self.observer, self.catalog, self.llm = planner, observer, catalog, llm

    def replay(self, run: Run, desk: tuple[ToolConfig, KnowledgeSearch | None]) -> ReplayCase:
        """Replay one recorded run with its mailbox's tool settings and knowledge base (`desk`), and
        compare it with production (people's corrections are judged when read: agrees_with_people)."""
        started = time.monotonic()
        config, kb = desk
        planned = self.planner.make_plan(run.ticket, run.recall)
        record = _Record(run, config)
        usage = record.usage
        usage.add(planned.usage or Usage())
        record.notes += planned.notes
        tried = self._ran(run.model_copy(update={"steps": {}, "observations": []}), planned.plan, record)
        tried = tried.model_copy(update={"planner": planned.planner})
        if self.observer is not None and planned.planner == "llm":
            extension = self.observer.extend(tried, kb)
            usage.add(extension.usage)
            record.notes += [f"observer: {n}" for n in extension.notes]
            whole = Plan(steps=[*planned.plan.steps, *extension.steps], rationale=planned.plan.rationale)
            tried = self._ran(tried, whole, record)
        production, candidate = side_of(run), side_of(tried)
        return ReplayCase(
            run_id=run.id,
            mailbox=run.ticket.mailbox,
            production=production,
            candidate=candidate,
            captured=record.captured,
            corrected=None,
            agrees_with_production=agrees(production, candidate, self.catalog),
            agrees_with_people=None,
            tokens=usage.prompt_tokens + usage.completion_tokens,
            cost_usd=round(usage.cost_usd, 6),
            latency_s=round(time.monotonic() - started, 3),
            notes=record.notes,
        )

    def _ran(self, tried: Run, plan: Plan, record: _Record) -> Run:
        """The run as if `plan` had run: each step it has no result of yet answered, in plan order."""
        tried = tried.model_copy(update={"plan": plan, "steps": dict(tried.steps)})
        for step in plan.steps:
            if step.id not in tried.steps:
                result = self._answer(tried, step, record)
                tried.steps[step.id] = StepState(status="done", attempts=1, result=result)
        return tried

    def _answer(self, tried: Run, step: Step, record: _Record) -> dict[str, Any]:
        """A step's result: a side effect is captured and answered by the record (or a stand-in); any
        other tool runs again, with the candidate's model where it asks one (its judgement is what is
        tried), against a ledger in memory."""
        tool = self.catalog.get(step.tool)
        if tool is None:
            record.notes.append(f"{step.id}: no tool {step.tool!r} here")
            return {}
        args = resolve_args(step.args, tried.ticket, tried.results(), tried.recall)
        if tool.side_effect:
            record.captured.append({"step": step.id, "tool": step.tool, "args": args})
            return record.result_of(step.tool) or stand_in(tool)
        ctx = ToolContext(
            tried.id,
            tried.ticket.id,
            step.id,
            record.ledger,
            record.config,
            llm=self.llm,
            usage=record,
            mailbox=tried.ticket.mailbox,
        )
        try:
            return dict(tool.run(args, ctx).model_dump(mode="json"))
        except Exception as exc:  # the candidate's step failed: no result, and the case says why
            record.notes.append(f"{step.id}: {type(exc).__name__}: {str(exc)[:200]}")
            return {}


@dataclass
class _Record:
    """One replay's production run, what the candidate would have done outside, and what it noted."""

    production: Run
    config: ToolConfig
    captured: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    ledger: MemoryLedger = field(default_factory=MemoryLedger)

    def record_usage(self, run_id: str, usage: Usage) -> None:
        """The tools' model calls count to the candidate's cost."""
        self.usage.add(usage)

    def disagreed(self, run_id: str, field: str) -> None:
        """The candidate's model said otherwise than the offline tools, which stood."""
        self.notes.append(f"the model disagreed with the offline tools on {field}")

    def result_of(self, tool: str) -> dict[str, Any] | None:
        """The result of production's first finished step that called `tool`."""
        plan = self.production.plan
        for step in plan.steps if plan else []:
            state = self.production.steps.get(step.id)
            if (
                step.tool == tool
                and state is not None
                and state.status == "done"
                and state.result is not None
            ):
                return dict(state.result)
        return None


def stand_in(tool: Tool[Any, Any]) -> dict[str, Any]:
    """A result for a side effect that was not sent: each required field a value of its type saying so."""
    made: dict[str, Any] = {}
    for name, info in tool.result_model.model_fields.items():
        if info.is_required():
            kind = get_origin(info.annotation) or info.annotation
            made[name] = kind() if kind in (bool, int, float, list, dict) else f"REPLAY-{name}"
    return made


def side_of(run: Run) -> Side:
    """What a run came to: its planner, tools, category and urgency (as the console summarizes it)."""
    summary = summarize(run)
    tools = [s.tool for s in run.plan.steps] if run.plan else []
    return Side(planner=run.planner, tools=tools, category=summary.category, urgency=summary.urgency)


def agrees_with_people(candidate: Side, corrected: dict[str, str] | None) -> bool | None:
    """Whether the candidate came to the category and urgency people later set (None: they set none)."""
    judged = {k: v for k, v in (corrected or {}).items() if k in ("category", "urgency")}
    return all(getattr(candidate, k) == v for k, v in judged.items()) if judged else None


def agrees(production: Side, candidate: Side, catalog: Mapping[str, Tool[Any, Any]]) -> bool:
    """The same category and urgency, and the same side effects (which tools, not in which order)."""
    acting = {name for name, tool in catalog.items() if tool.side_effect}
    same_effects = sorted(set(production.tools) & acting) == sorted(set(candidate.tools) & acting)
    return same_effects and (production.category, production.urgency) == (
        candidate.category,
        candidate.urgency,
    )
