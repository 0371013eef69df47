"""The quality report as one page: `triage eval --plot FILE.html` (and `make quality`)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from evaluation.quality_page import Scored, calibration, coverage_curve
from tests.support import triage


def test_calibration_compares_each_tenth_of_confidence_with_how_often_it_was_right() -> None:
    scored = [Scored("a", "a", 0.95)] * 9 + [Scored("a", "b", 0.91)] + [Scored("a", "b", 0.32)] * 2
    got = [(round(mean, 3), right, n) for mean, right, n in calibration(scored)]
    assert got == [(0.32, 0.0, 2), (0.946, 0.9, 10)]


def test_a_higher_threshold_answers_fewer_and_gets_more_right() -> None:
    scored = [Scored("a", "a", 0.9), Scored("a", "a", 0.6), Scored("a", "b", 0.3), Scored("b", "a", 0.1)]
    curve = {round(t, 2): (coverage, accuracy) for t, coverage, accuracy in coverage_curve(scored)}
    assert curve[0.0] == (1.0, 0.5)
    assert curve[0.3] == (0.75, 2 / 3)
    assert curve[0.5] == (0.5, 1.0)
    assert curve[0.95] == (0.0, 1.0)  # nothing answered: nothing wrong


def test_eval_writes_one_self_contained_page(tmp_path: Path) -> None:
    rows = [
        *(
            ("I was charged twice for my subscription", "billing"),
            ("Refund the duplicate payment", "billing"),
        ),
        *(
            ("The app crashes when I export a report", "technical"),
            ("I cannot log in to my account", "account"),
        ),
        *(("Thanks for the quick help!", "other"), ("Where is my invoice for March?", "billing")),
    ]
    data = tmp_path / "tickets.csv"
    with data.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    page = tmp_path / "quality.html"
    result = triage(
        "eval", str(data), "--text-column", "text", "--label-column", "label", "--plot", str(page)
    )
    assert result.exit_code == 0, result.output
    html = page.read_text()
    for section in (
        "Confusion matrix",
        "Per category",
        "Is the confidence honest?",
        "What a threshold costs",
    ):
        assert f"<h2>{section}</h2>" in html
    assert html.count("<svg") == 2 and "<script" not in html and "src=" not in html  # nothing fetched
    assert re.search(r"texts <b>6</b>", html)
    assert "TRIAGE_REVIEW_THRESHOLD" in html
