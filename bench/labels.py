"""How many of a labelled mailbox's fields a demo run got right: `triage demo --json` lines against the
labels a person set (examples/mailbox-labels.json, by subject). `make labels` runs the rules and the
local model on the sample mailbox and prints both lines.

    python -m bench.labels rules.json llm.json [--labels examples/mailbox-labels.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

FIELDS = ("category", "urgency", "customer_name", "account_id")


def scored(rows: list[dict[str, Any]], labels: dict[str, dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per field: (right, labelled) over the rows whose subject is labelled (a missing row counts wrong)."""
    by_subject: dict[Any, dict[str, Any]] = {}
    for row in rows:  # a duplicate of a ticket's mail (same subject) is no answer of its own
        if row.get("subject") not in by_subject or row.get("category") is not None:
            by_subject[row.get("subject")] = row
    score = {}
    for field in FIELDS:
        truth = {subject: wanted[field] for subject, wanted in labels.items()}
        right = sum(s in by_subject and by_subject[s].get(field) == value for s, value in truth.items())
        score[field] = (right, len(truth))
    return score


def line(name: str, score: dict[str, tuple[int, int]]) -> str:
    """One line of figures: each field's right of labelled, and all of them together."""
    right, total = sum(r for r, _ in score.values()), sum(t for _, t in score.values())
    fields = ", ".join(f"{field} {r}/{t}" for field, (r, t) in score.items())
    return f"{name}: {right}/{total} labels right ({fields})"


def main() -> None:
    """Print one line per demo output given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="what triage demo --json printed, one per file")
    parser.add_argument("--labels", type=Path, default=Path("examples/mailbox-labels.json"))
    args = parser.parse_args()
    labels = {k: v for k, v in json.loads(args.labels.read_text()).items() if not k.startswith("_")}
    for path in args.runs:
        rows = [json.loads(row) for row in path.read_text().splitlines() if row.startswith("{")]
        print(line(path.stem, scored(rows, labels)))


if __name__ == "__main__":
    main()
