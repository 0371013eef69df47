"""`triage eval`: load, run the real tools, report."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.progress import track

from evaluation.dataset import category_name, folds, per_class, read_rows, taxonomy_from_rows, write_taxonomy
from evaluation.quality_page import Scored, page
from evaluation.report import as_json as report_json
from evaluation.report import plot as plot_report
from evaluation.report import render, render_entities
from evaluation.runner import Answers, EntityRow, categorize_all, evaluate_entities, score_answers
from tools.base import ToolConfig
from tools.taxonomy import resolve_classifier
from workers.runtime import Runtime

Rows = list[dict[str, str]]


@dataclass(frozen=True)
class EvalRequest:
    """What `triage eval` was asked to measure."""

    test_csv: Path
    text_column: str
    label_column: str | None = None
    train_csv: Path | None = None
    per_class: int = 10  # 0: every row
    seed: int = 0
    folds: int = 0  # k > 1: k-fold cross-validation on test_csv
    classifier: str | None = None  # auto | tfidf | embeddings; None: the configured one
    entities: bool = False
    as_json: bool = False
    plot: Path | None = None


def _entity_rows(rows: Rows, text_column: str) -> list[EntityRow]:
    result = []
    for row in rows:
        kind = row.get("entity_type") or None
        start, end = row.get("start_offset"), row.get("end_offset")
        span = row[text_column][int(float(start)) : int(float(end))] if kind and start and end else None
        result.append(EntityRow(row[text_column], kind, span))
    return result


def _progress(items: Iterable[int]) -> Iterable[int]:
    return track(items, description="evaluating", console=Console(stderr=True), transient=True)


def _splits(request: EvalRequest, label: str) -> tuple[str, Iterator[tuple[Rows | None, Rows]]]:
    """Where the taxonomy comes from, and each (training rows or None, test rows) pair."""
    test = read_rows(request.test_csv, request.text_column, label)
    n, seed, text = request.per_class, request.seed, request.text_column
    rows_per_label = f"{n} rows" if n else "all rows"
    if request.folds:
        parts = folds(test, label, request.folds, seed)
        source = f"{rows_per_label} per label of the other folds ({request.folds}-fold, seed {seed})"
        return source, (
            (per_class([r for j, part in enumerate(parts) if j != i for r in part], label, n, seed), held)
            for i, held in enumerate(parts)
        )
    if request.train_csv is None:
        return "the configured categories file", iter([(None, test)])
    train = per_class(read_rows(request.train_csv, text, label), label, n, seed)
    if request.train_csv.resolve() == request.test_csv.resolve():  # never score a row it learned from
        learned = {row[text] for row in train}
        test = [row for row in test if row[text] not in learned]
    return f"{rows_per_label} per label of {request.train_csv.name} (seed {seed})", iter([(train, test)])


def run_eval(request: EvalRequest, rt: Runtime) -> None:
    """The body of `triage eval`: measure the tools as configured (or as the request changes them)."""
    console = Console(stderr=request.as_json, width=None if sys.stdout.isatty() else 180)
    if request.entities:
        columns = [request.text_column, "entity_type", "start_offset", "end_offset"]
        rows = _entity_rows(read_rows(request.test_csv, *columns), request.text_column)
        scores = evaluate_entities(rows, rt.tool_config, _progress)
        if request.as_json:
            click.echo(json.dumps({k: v.__dict__ for k, v in scores.items()}))
        else:
            render_entities(scores, console)
        return
    label = request.label_column
    if label is None:
        raise click.UsageError("--label-column is required (or use --entities)")
    if request.folds and (request.folds < 2 or request.train_csv is not None):
        raise click.UsageError("--folds takes k >= 2 and its training rows from TEST_CSV (no --train)")
    config: ToolConfig = rt.tool_config
    if request.classifier is not None:
        try:
            config = config.model_copy(update={"classifier": resolve_classifier(request.classifier)})
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    source, splits = _splits(request, label)
    gold: list[str] = []
    answers = Answers()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (train, test) in enumerate(splits):
            split_config = config
            if train is not None:
                path = Path(tmp) / f"categories-{i}.json"
                write_taxonomy(taxonomy_from_rows(train, request.text_column, label), path)
                split_config = config.model_copy(update={"categories_file": path})
            name = category_name if train is not None else str  # a taxonomy from rows renames labels
            gold += [name(row[label]) for row in test]
            answers += categorize_all(
                [row[request.text_column] for row in test], split_config, rt.llm, _progress
            )
    report, extras = score_answers(gold, answers)
    mode = "llm" if rt.llm is not None else config.classifier
    title = f"categorize_ticket ({mode}) trained on {source}"
    if request.as_json:
        click.echo(report_json(report, mode=mode, trained_on=source, **extras))
    else:
        render(report, console, title)
        coverage, answered, forced = (
            extras["coverage"],
            extras["accuracy_answered"],
            extras["accuracy_forced"],
        )
        console.print(
            f"answered {coverage:.1%} (the rest: 'other', for review); accuracy when answered "
            f"{answered:.3f}; naming the top category always: {forced:.3f}"
        )
    if request.plot is not None and request.plot.suffix == ".html":
        scored = [Scored(*row) for row in zip(gold, answers.forced, answers.confidence, strict=True)]
        request.plot.write_text(page(report, scored, title, config.review_threshold, extras))
        console.print(f"wrote {request.plot}")
    elif request.plot is not None:
        plot_report(report, request.plot, title)
        console.print(f"wrote {request.plot}")
