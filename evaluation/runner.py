"""Run the real tools over labelled rows: categorize_ticket for labels, extract_entities for spans."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from evaluation.metrics import ClassScore, Report, f1, score
from tools.base import ToolConfig, ToolContext
from tools.categorize import ABSTAIN, categorize_ticket
from tools.extract import extract_entities
from tools.llm import LLM

ENTITY_TYPES = ("person_name", "order_id", "invoice_id", "account_type")


class MemoryLedger:
    """A Ledger in memory: an evaluation has no side effects to remember beyond one process."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.counters: dict[str, int] = defaultdict(int)
        self.locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def get(self, key: str) -> dict[str, Any] | None:
        """The record under key."""
        return self.records.get(key)

    def claim(self, key: str, record: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Store unless present."""
        if key in self.records:
            return False, self.records[key]
        self.records[key] = record
        return True, record

    def note(self, key: str, record: dict[str, Any]) -> None:
        """Store, replacing."""
        self.records[key] = record

    def count_within(self, key: str, window_s: int) -> int:
        """Count one more (an evaluation is shorter than any window)."""
        return self.next_number(key)

    def next_number(self, name: str) -> int:
        """A fresh number."""
        self.counters[name] += 1
        return self.counters[name]

    @contextmanager
    def exclusive(self, key: str, ttl_s: float, wait_s: float = 5) -> Iterator[None]:
        """A per-key lock."""
        with self.locks[key]:
            yield


def _context(config: ToolConfig, llm: LLM | None, ledger: MemoryLedger, i: int) -> ToolContext:
    return ToolContext(
        run_id=f"eval-{i}", ticket_id=f"eval-{i}", step_id="eval", ledger=ledger, config=config, llm=llm
    )


@dataclass
class Answers:
    """What categorize_ticket said of each text: its answer, and its most probable category."""

    predicted: list[str] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)  # the most probable category's probability

    def __iadd__(self, other: Answers) -> Answers:
        self.predicted += other.predicted
        self.forced += other.forced
        self.confidence += other.confidence
        return self


def categorize_all(
    texts: list[str],
    config: ToolConfig,
    llm: LLM | None = None,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda items: items,
) -> Answers:
    """Categorize every text with the real tool."""
    ledger = MemoryLedger()
    answers = Answers()
    for i in progress(range(len(texts))):
        result = categorize_ticket.run({"subject": "", "body": texts[i]}, _context(config, llm, ledger, i))
        answers.predicted.append(result.category)
        top = max(result.probabilities, key=lambda label: result.probabilities[label])
        answers.forced.append(top)
        answers.confidence.append(result.probabilities[top])
    return answers


def score_answers(gold: list[str], answers: Answers) -> tuple[Report, dict[str, float]]:
    """Score the tool's answers, and its forced choices.

    The tool answers `other` below the review threshold (a human looks). The report counts those as
    wrong; `extras` gives the coverage, the accuracy on what it did answer, and the accuracy had it
    always named its most probable category (comparable with classifiers that never abstain).
    """
    predicted, forced = answers.predicted, answers.forced
    answered = [(g, p) for g, p in zip(gold, predicted, strict=True) if p != ABSTAIN]
    extras = {
        "coverage": len(answered) / len(gold) if gold else 0.0,
        "accuracy_answered": sum(g == p for g, p in answered) / len(answered) if answered else 0.0,
        "accuracy_forced": score(gold, forced).accuracy,
    }
    return score(gold, predicted), extras


@dataclass
class EntityRow:
    """One labelled text: its annotated entity (if any) as the exact span."""

    text: str
    entity_type: str | None
    span: str | None


def _found(result: dict[str, Any], entity_type: str) -> set[str]:
    if entity_type == "person_name":
        values = list(result["people"]) + ([result["customer_name"]] if result["customer_name"] else [])
    else:
        values = [result[entity_type]] if result.get(entity_type) else []
    return {v.strip().lower() for v in values}


def evaluate_entities(
    rows: list[EntityRow], config: ToolConfig,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda items: items,
) -> dict[str, ClassScore]:  # fmt: skip
    """Precision, recall and F1 per entity type, matching spans case-insensitively.

    Each row is annotated with at most one entity, so a prediction counts against precision only on
    rows annotated with that type or with none (another entity may stand unannotated in the rest).
    """
    ledger = MemoryLedger()
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for i in progress(range(len(rows))):
        row = rows[i]
        result = extract_entities.run(
            {"subject": "", "body": row.text}, _context(config, None, ledger, i)
        ).model_dump()
        for entity_type in ENTITY_TYPES:
            found = _found(result, entity_type)
            if row.entity_type == entity_type and row.span is not None:
                gold = row.span.strip().lower()
                tp[entity_type] += gold in found
                fn[entity_type] += gold not in found
                fp[entity_type] += len(found - {gold})
            elif row.entity_type is None:
                fp[entity_type] += len(found)
    scores = {}
    for entity_type in ENTITY_TYPES:
        predicted, actual = tp[entity_type] + fp[entity_type], tp[entity_type] + fn[entity_type]
        precision = tp[entity_type] / predicted if predicted else 0.0
        recall = tp[entity_type] / actual if actual else 0.0
        scores[entity_type] = ClassScore(precision, recall, f1(precision, recall), actual)
    return scores
