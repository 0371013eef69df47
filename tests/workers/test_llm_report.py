"""The demo's LLM line counts what the model did: its plans, its repairs, the runs that fell back to
the rules grouped by kind of reason, and every token."""

from __future__ import annotations

from typing import Any

from agent.run import Run, now
from cli.llm_report import llm_report
from tests.agent.test_plan import ticket
from tools.llm import Usage


def run(planner: str, notes: list[str], tokens: tuple[int, int] = (1000, 100)) -> Run:
    usage = Usage(calls=1, prompt_tokens=tokens[0], completion_tokens=tokens[1])
    fields: dict[str, Any] = {"planner": planner, "planner_notes": notes, "usage": usage}
    return Run(id="R", ticket=ticket(), status="done", created_at=now(), **fields)


def test_the_line_says_plans_repairs_fallbacks_by_reason_and_tokens() -> None:
    runs = [
        run("llm", []),
        run("llm", ["attempt 1 rejected: step id 'x' is used twice", "repaired after 1 rejected attempt(s)"]),
        run("fallback", ["fallback to rules: no valid plan after 3 attempts"]),
        run("fallback", ["fallback to rules: no valid plan after 2 attempts"]),
        run("fallback", ["fallback to rules: model unavailable: no turn: 1 requests in flight for 30s"]),
        run("rules", [], (0, 0)),
    ]

    report = llm_report(runs)

    assert (report.planned, report.repaired, report.fell_back, report.tokens) == (2, 1, 3, 5500)
    assert report.line() == (
        "LLM: 2 plans by the model, 1 repaired, 3 fell back (no valid plan after N attempts: 2, "
        "model unavailable: 1), 5,500 tokens"
    )
