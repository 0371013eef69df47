"""bench/labels.py: a demo's answers scored against the labels a person set, a duplicate mail aside."""

from __future__ import annotations

from bench.labels import line, scored

LABELS = {
    "Charged twice": {
        "category": "billing",
        "urgency": "high",
        "customer_name": "Maria",
        "account_id": "ACC1",
    },
    "Thank you!": {"category": "other", "urgency": "low", "customer_name": None, "account_id": None},
}


def test_each_field_is_scored_against_the_label_and_a_duplicate_row_does_not_hide_its_ticket() -> None:
    found = {"category": "billing", "urgency": "medium", "customer_name": "Maria", "account_id": "ACC1"}
    rows = [
        {"subject": "Charged twice"} | found,
        {"subject": "Charged twice", "status": "duplicate"},  # the same mail again: no answer of its own
        {"subject": "Unlabelled", "category": "technical"},
    ]
    score = scored(rows, LABELS)
    assert score == {"category": (1, 2), "urgency": (0, 2), "customer_name": (1, 2), "account_id": (1, 2)}
    assert line("rules", score) == (
        "rules: 3/8 labels right (category 1/2, urgency 0/2, customer_name 1/2, account_id 1/2)"
    )
