"""Labelled CSV rows, sampled per class, and taxonomies built from them."""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from pathlib import Path


def read_rows(path: Path, *required: str) -> list[dict[str, str]]:
    """All rows of a CSV file; a missing column is a clear error naming the columns there are."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path} has no column {', '.join(missing)} (columns: {', '.join(reader.fieldnames or [])})"
            )
        return list(reader)


def per_class(rows: list[dict[str, str]], label_column: str, n: int, seed: int = 0) -> list[dict[str, str]]:
    """n rows of each label (every row when n is 0), drawn at random (seeded, so a run can be repeated)."""
    if n == 0:
        return list(rows)
    by_label: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[label_column]].append(row)
    rng = random.Random(seed)
    chosen = []
    for label in sorted(by_label):
        chosen += rng.sample(by_label[label], min(n, len(by_label[label])))
    return chosen


def folds(rows: list[dict[str, str]], label_column: str, k: int, seed: int = 0) -> list[list[dict[str, str]]]:
    """k disjoint parts of the rows, each label spread evenly over them (stratified, seeded)."""
    by_label: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[label_column]].append(row)
    rng = random.Random(seed)
    parts: list[list[dict[str, str]]] = [[] for _ in range(k)]
    offset = 0
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        for i, row in enumerate(group):
            parts[(offset + i) % k].append(row)
        offset += len(group)  # the next label starts where this one ended: parts stay the same size
    return parts


def taxonomy_from_rows(rows: list[dict[str, str]], text_column: str, label_column: str) -> dict[str, object]:
    """A categories file (name, description, examples) built from labelled rows."""
    examples: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        examples[row[label_column]].append(row[text_column])
    return {
        "version": 1,
        "categories": [
            {"name": category_name(label), "description": f"requests labelled {label}", "examples": texts}
            for label, texts in sorted(examples.items())
        ],
    }


def write_taxonomy(taxonomy: dict[str, object], path: Path) -> None:
    """Write a categories file (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(taxonomy, indent=2, ensure_ascii=False) + "\n")


def category_name(label: str) -> str:
    """A category name the taxonomy accepts (lower case, [a-z0-9_-])."""
    slug = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in label.strip().lower())
    return slug if slug[:1].isalpha() else f"c_{slug}"
