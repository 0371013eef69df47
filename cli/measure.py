"""`triage eval` and `triage train-categorizer`: measuring the judgement tools on labelled data."""

from __future__ import annotations

from pathlib import Path

import click

from cli.evaluate import EvalRequest, run_eval
from evaluation.dataset import per_class as sample
from evaluation.dataset import read_rows, taxonomy_from_rows, write_taxonomy
from workers.runtime import Runtime


@click.command("eval")
@click.argument("test_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", required=True, help="Column holding the text.")
@click.option(
    "--label-column", default=None, help="Column holding the category (not needed with --entities)."
)
@click.option(
    "--train",
    "train_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Take the taxonomy from this CSV instead of the configured categories file.",
)
@click.option(
    "--per-class", default=10, show_default=True, help="With --train or --folds: rows per label (0: all)."
)
@click.option("--seed", default=0, show_default=True, help="Which rows are drawn (and folds dealt).")
@click.option(
    "--folds", default=0, help="k-fold cross-validation on TEST_CSV: every row scored once, by a model "
    "trained on the other folds.",
)  # fmt: skip
@click.option(
    "--classifier",
    type=click.Choice(["auto", "tfidf", "embeddings"]),
    default=None,
    help="Offline classifier to measure (default: TRIAGE_CLASSIFIER).",
)
@click.option(
    "--entities", is_flag=True, help="Score extract_entities against entity_type/start_offset/end_offset."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write FILE.html (confusion matrix, precision/recall, calibration, coverage) or FILE.png.",
)
@click.pass_obj
def evaluate(
    rt: Runtime,
    test_csv: Path,
    text_column: str,
    label_column: str | None,
    train_csv: Path | None,
    per_class: int,
    seed: int,
    folds: int,
    classifier: str | None,
    entities: bool,
    as_json: bool,
    plot: Path | None,
) -> None:
    """Measure categorize_ticket (or, with --entities, extract_entities) on a labelled CSV."""
    request = EvalRequest(
        test_csv=test_csv, text_column=text_column, label_column=label_column, train_csv=train_csv,
        per_class=per_class, seed=seed, folds=folds, classifier=classifier, entities=entities,
        as_json=as_json, plot=plot,
    )  # fmt: skip
    try:
        run_eval(request, rt)
    except ValueError as exc:  # a column or file the CSV does not have: the user's to fix
        raise click.ClickException(str(exc)) from None


@click.command("train-categorizer")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", required=True)
@click.option("--label-column", required=True)
@click.option("--per-class", default=20, show_default=True, help="Examples per category.")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Categories file to write."
)
def train_categorizer(
    csv_file: Path, text_column: str, label_column: str, per_class: int, seed: int, out: Path
) -> None:
    """Write a categories file (TRIAGE_CATEGORIES_FILE) from a labelled CSV: N examples per label."""
    rows = sample(read_rows(csv_file, text_column, label_column), label_column, per_class, seed)
    write_taxonomy(taxonomy_from_rows(rows, text_column, label_column), out)
    labels = {row[label_column] for row in rows}
    click.echo(f"wrote {out}: {len(labels)} categories, {len(rows)} examples; edit the descriptions, then "
               f"set TRIAGE_CATEGORIES_FILE={out}")  # fmt: skip
