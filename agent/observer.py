"""Observe, then act: once a model's plan has run, the model sees what each step found (and what the
knowledge base holds for the ticket) and may add steps before the run closes, for example a drafted
answer only when the category is known and an article answers the ticket.

What it adds passes the same validation and policy as any plan, judged on the whole plan (old steps and
new), within the maximum step count; a rejected proposal goes back with its errors like a plan does.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.llm_planner import PROMPTS, Asked, ask_for_plan, ticket_for_prompt
from agent.memory.chroma import MemoryUnavailable
from agent.plan import Plan, Step
from agent.plan_schema import plan_output_schema, plan_to_answer
from agent.policy import allowed_tools, review_extension
from agent.prompt_catalog import Detail, Showing, catalog_for_prompt
from agent.run import Run
from agent.tool_shortlist import Shortlist
from tools.base import Tool
from tools.kb_port import KnowledgeSearch
from tools.llm import LLM, Usage
from tools.llm_budget import Charge

PROMPT_VERSION = "observer-v1"
ARTICLES = 3  # knowledge-base articles shown per look
_VALUE_LIMIT = 300  # characters of one result string a model sees
_RESULTS_LIMIT = 6000  # characters of all results together

log = logging.getLogger("triage")
Outcome = Literal["extended", "nothing", "rejected", "unavailable"]


@dataclass(frozen=True)
class Extension:
    """What one look came to: the steps to append (validated with the plan), the outcome, the reasons
    and the LLM usage."""

    steps: list[Step]
    outcome: Outcome
    notes: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def _cut(value: Any) -> Any:
    """A result value as a model sees it: long strings cut, nested values cut the same way."""
    if isinstance(value, str):
        return value[:_VALUE_LIMIT]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value[:10]]
    return value


def results_for_prompt(run: Run) -> str:
    """Each step of the plan with its status and result, as delimited, untrusted data (results quote the
    customer: an extracted name, evidence)."""
    assert run.plan is not None
    steps = []
    for step in run.plan.steps:
        state = run.steps.get(step.id)
        status = state.status if state is not None else "pending"
        result = state.result if state is not None and state.result is not None else None
        steps.append({"id": step.id, "tool": step.tool, "status": status, "result": _cut(result)})
    text = json.dumps(steps, ensure_ascii=False, indent=1)[:_RESULTS_LIMIT].replace(
        "</results", "<\\/results"
    )
    return f"<results>\n{text}\n</results>"


class Observer:
    """Shows a model a run's results and asks what to add; the answer is checked as a whole plan."""

    def __init__(
        self,
        llm: LLM,
        catalog: Mapping[str, Tool[Any, Any]],
        *,
        max_steps: int,
        max_repairs: int,
        prompt_budget: int = 200_000,
        shortlist: Shortlist | None = None,
    ) -> None:
        self.llm, self.catalog = llm, catalog
        self.max_steps, self.max_repairs = max_steps, max_repairs
        template = string.Template((PROMPTS / f"{PROMPT_VERSION}.txt").read_text())

        def render(tools: Mapping[str, Tool[Any, Any]], detail: Detail) -> str:
            return template.substitute(catalog_for_prompt(tools, detail))

        self.showing = Showing(catalog, render, prompt_budget, shortlist)

    def extend(self, run: Run, kb: KnowledgeSearch | None) -> Extension:
        """Ask the model what the run's results call for, with what `kb` (the run's mailbox's knowledge
        base) holds for it; the steps it adds, or why there are none."""
        assert run.plan is not None, "a run is observed after its plan ran"
        room = self.max_steps - len(run.plan.steps)
        if room <= 0:
            return Extension([], "nothing", [f"the plan has {len(run.plan.steps)} steps: no room for more"])
        knowledge, notes = _knowledge(run, kb)
        shown = self.showing.for_ticket(run.ticket)
        messages = [
            {"role": "system", "content": shown.system},
            {
                "role": "user",
                "content": (
                    f"The e-mail:\n{ticket_for_prompt(run.ticket, shown.body_chars)}\n"
                    f"The plan so far:\n{json.dumps(plan_to_answer(run.plan))}\n"
                    f"What its steps found:\n{results_for_prompt(run)}\n"
                    f"What the knowledge base holds for the e-mail:\n{knowledge}\n"
                    f"You may add at most {room} step(s)."
                ),
            },
        ]
        schema = plan_output_schema(shown.tools, allowed_tools(run.ticket, shown.tools), room)
        plan = run.plan

        def check(added: Plan) -> Plan:
            review_extension(plan, added, run.ticket, shown.tools, max_steps=self.max_steps)
            return added

        charge = Charge(run.ticket.id, run.ticket.mailbox)
        asked = ask_for_plan(self.llm, messages, schema, "observe", check, self.max_repairs, charge, plan)
        return _extension(asked, notes)


def _knowledge(run: Run, kb: KnowledgeSearch | None) -> tuple[str, list[str]]:
    """The best articles for the ticket as a model sees them, and a note when none could be looked up."""
    if kb is None:
        return "no knowledge base is configured", []
    try:
        found = kb.search(f"{run.ticket.subject}\n{run.ticket.body}", ARTICLES)
    except MemoryUnavailable as exc:
        log.warning("observe: knowledge base unavailable run=%s: %s", run.id, exc)
        return "the knowledge base could not be searched", [f"knowledge base unavailable: {exc}"]
    articles = [
        {
            "path": a.path,
            "title": a.title[:200],
            "similarity": round(a.similarity, 3),
            "answers_it": a.similarity >= kb.relevant,
        }
        for a in found
    ]
    return json.dumps(articles, ensure_ascii=False), []


def _extension(asked: Asked, notes: list[str]) -> Extension:
    notes = [*notes, *asked.notes]
    if asked.plan is None:
        outcome: Outcome = "unavailable" if asked.unavailable else "rejected"
        return Extension([], outcome, [*notes, f"nothing added: {asked.failure}"], asked.usage)
    if not asked.plan.steps:
        return Extension([], "nothing", notes, asked.usage)
    return Extension(asked.plan.steps, "extended", notes, asked.usage)
