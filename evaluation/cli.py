"""`triage eval`: load, run the real tools, report."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.progress import track

from evaluation.dataset import category_name, per_class, read_rows, taxonomy_from_rows, write_taxonomy
from evaluation.report import as_json as report_json
from evaluation.report import plot as plot_report
from evaluation.report import render, render_entities
from evaluation.runner import EntityRow, evaluate_categories, evaluate_entities


def _entity_rows(rows: list[dict[str, str]], text_column: str) -> list[EntityRow]:
    result = []
    for row in rows:
        kind = row.get("entity_type") or None
        start, end = row.get("start_offset"), row.get("end_offset")
        span = row[text_column][int(float(start)) : int(float(end))] if kind and start and end else None
        result.append(EntityRow(row[text_column], kind, span))
    return result


def run_eval(test_csv: Path, text_column: str, label_column: str | None, train_csv: Path | None, n: int,
             seed: int, entities: bool, as_json: bool, plot: Path | None) -> None:  # fmt: skip
    """The body of `triage eval`."""
    from workers.runtime import runtime

    rt = runtime()
    console = Console(stderr=as_json, width=None if sys.stdout.isatty() else 180)
    progress = lambda items: track(items, description="evaluating", console=Console(stderr=True),  # noqa: E731
                                   transient=True)  # fmt: skip
    if entities:
        columns = [text_column, "entity_type", "start_offset", "end_offset"]
        scores = evaluate_entities(
            _entity_rows(read_rows(test_csv, *columns), text_column), rt.tool_config, progress
        )
        if as_json:
            import json

            click.echo(json.dumps({k: v.__dict__ for k, v in scores.items()}))
        else:
            render_entities(scores, console)
        return
    if label_column is None:
        raise click.UsageError("--label-column is required (or use --entities)")
    test = read_rows(test_csv, text_column, label_column)
    config = rt.tool_config
    with tempfile.TemporaryDirectory() as tmp:
        source = "the configured categories file"
        if train_csv is not None:
            train = per_class(read_rows(train_csv, text_column, label_column), label_column, n, seed)
            if train_csv.resolve() == test_csv.resolve():  # never score a row the classifier learned from
                learned = {row[text_column] for row in train}
                test = [row for row in test if row[text_column] not in learned]
            path = Path(tmp) / "categories.json"
            write_taxonomy(taxonomy_from_rows(train, text_column, label_column), path)
            config = config.model_copy(update={"categories_file": path})
            source = f"{n} rows per label of {train_csv.name} (seed {seed})"
        name = category_name if train_csv is not None else str  # a taxonomy built from rows renames labels
        gold = [name(row[label_column]) for row in test]
        report, extras = evaluate_categories(
            [row[text_column] for row in test], gold, config, rt.llm, progress
        )
    mode = "llm" if rt.llm is not None else "offline"
    title = f"categorize_ticket ({mode}) trained on {source}"
    if as_json:
        click.echo(report_json(report, mode=mode, trained_on=source, **extras))
    else:
        render(report, console, title)
        coverage, answered, forced = (
            extras["coverage"],
            extras["accuracy_answered"],
            extras["accuracy_forced"],
        )
        console.print(
            f"answered {coverage:.1%} (the rest: 'other', for review); "
            f"accuracy when answered {answered:.3f}; naming the top category always: {forced:.3f}"
        )
    if plot is not None:
        plot_report(report, plot, title)
        console.print(f"wrote {plot}")
