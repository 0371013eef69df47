"""What the model did for a set of runs, in one line: plans it wrote, how many it repaired, how many fell
back to the rules and why (the commonest reasons), and the tokens it took."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from agent.run import Run

FALLBACK = "fallback to rules: "
_DETAIL = re.compile(r": .*")  # what makes two reasons of one kind differ: the details after a colon
_COUNT = re.compile(r"\d+")


@dataclass(frozen=True)
class LLMReport:
    """The model's share of a set of runs."""

    planned: int  # plans the model wrote that were used
    repaired: int  # of those, plans accepted after a rejected answer
    fell_back: int  # runs planned by the rules because the model gave no valid plan
    reasons: list[tuple[str, int]]  # why, the commonest kinds first
    tokens: int

    def line(self) -> str:
        """`LLM: 3 plans by the model, 1 repaired, 13 fell back (...), 51,200 tokens`."""
        why = ", ".join(f"{reason}: {n}" for reason, n in self.reasons[:3])
        fell = f"{self.fell_back} fell back" + (f" ({why})" if why else "")
        return (
            f"LLM: {self.planned} plans by the model, {self.repaired} repaired, {fell}, "
            f"{self.tokens:,} tokens"
        )


def llm_report(runs: Iterable[Run]) -> LLMReport:
    """The model's share of these runs (runs planned by the rules alone count nowhere)."""
    planned = repaired = fell_back = tokens = 0
    reasons: Counter[str] = Counter()
    for run in runs:
        tokens += int(run.usage.prompt_tokens + run.usage.completion_tokens)
        if run.planner == "llm":
            planned += 1
            repaired += any(n.startswith("repaired after") for n in run.planner_notes)
        elif run.planner == "fallback":
            fell_back += 1
            said = next((n[len(FALLBACK) :] for n in run.planner_notes if n.startswith(FALLBACK)), "?")
            reasons[_COUNT.sub("N", _DETAIL.sub("", said)).strip() or said] += 1
    return LLMReport(planned, repaired, fell_back, reasons.most_common(), tokens)
