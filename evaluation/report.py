"""Showing an evaluation: rich tables in a terminal, one JSON object, or a PNG picture."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from evaluation.metrics import ClassScore, Report


def as_json(report: Report, **extra: Any) -> str:
    """The report as one JSON object (accuracy, macro_f1, per_class, confusion, n, and extras)."""
    return json.dumps({**asdict(report), **extra}, ensure_ascii=False)


def render(report: Report, console: Console, title: str) -> None:
    """Accuracy, macro-F1, the per-class table and the confusion matrix."""
    summary = f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f} on {report.n} rows"
    console.print(f"[bold]{title}[/bold]: {summary}")
    console.print(_class_table(report.per_class, "class"))
    labels = list(next(iter(report.confusion.values()), {}))
    matrix = Table(title="confusion matrix (rows: true, columns: predicted)")
    matrix.add_column("true \\ predicted")
    for label in labels:
        matrix.add_column(label[:10], justify="right")
    for gold, row in report.confusion.items():
        matrix.add_row(
            gold,
            *(f"[bold]{row[p]}[/bold]" if p == gold else (str(row[p]) if row[p] else ".") for p in labels),
        )
    console.print(matrix)


def render_entities(scores: dict[str, ClassScore], console: Console) -> None:
    """Precision, recall and F1 per entity type."""
    console.print(_class_table(scores, "entity type"))


def _class_table(scores: dict[str, ClassScore], first: str) -> Table:
    table = Table()
    for column in (first, "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == first else "right")
    for name, s in scores.items():
        table.add_row(name, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
    return table


def plot(report: Report, path: Path, title: str) -> None:
    """A PNG: the confusion matrix as a heat map, with per-class F1 beside it (needs matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install -e '.[plot]'") from None
    labels = list(report.confusion)
    columns = list(next(iter(report.confusion.values()), {}))
    values = [[report.confusion[g][p] for p in columns] for g in labels]
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [3, 1]})
    left.imshow(values, cmap="Blues")
    left.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    left.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(values):
        for j, n in enumerate(row):
            if n:
                left.text(j, i, str(n), ha="center", va="center", fontsize=8)
    left.set_xlabel("predicted")
    left.set_ylabel("true")
    right.barh(labels, [report.per_class[g].f1 for g in labels])
    right.set_xlim(0, 1)
    right.invert_yaxis()
    right.set_title("F1 per class")
    figure.suptitle(f"{title}: accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
