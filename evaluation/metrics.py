"""Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class ClassScore:
    """Precision, recall and F1 of one class, with its support (true rows)."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    """Everything an evaluation measured."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassScore]
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    n: int = 0


def f1(precision: float, recall: float) -> float:
    """The harmonic mean of precision and recall (0 when both are 0)."""
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def score(gold: list[str], predicted: list[str]) -> Report:
    """Compare predictions with gold labels."""
    labels = sorted(set(gold) | set(predicted))
    pairs = Counter(zip(gold, predicted, strict=True))
    per_class = {}
    for label in labels:
        tp = pairs[(label, label)]
        predicted_n = sum(n for (_, p), n in pairs.items() if p == label)
        support = sum(n for (g, _), n in pairs.items() if g == label)
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        per_class[label] = ClassScore(precision, recall, f1(precision, recall), support)
    gold_labels = sorted(set(gold))
    return Report(
        accuracy=sum(n for (g, p), n in pairs.items() if g == p) / len(gold) if gold else 0.0,
        macro_f1=sum(per_class[g].f1 for g in gold_labels) / len(gold_labels) if gold_labels else 0.0,
        per_class=per_class,
        confusion={g: {p: pairs[(g, p)] for p in labels} for g in gold_labels},
        n=len(gold),
    )
