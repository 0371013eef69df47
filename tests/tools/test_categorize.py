"""categorize_ticket: trained from the categories file at start-up; abstains when unsure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tools import embeddings
from tools.base import ToolContext
from tools.categorize import categorize_ticket
from tools.errors import PermanentToolError
from tools.taxonomy import classifier_for
from workers.settings import ConfigError, load_settings

SUPPORT_REQUESTS = [
    (
        "Double charge",
        "You charged my credit card twice this month, please refund one payment.",
        "billing",
    ),
    ("Wrong VAT", "The invoice has the wrong VAT number, please send a corrected invoice.", "billing"),
    ("API broken", "Since the upgrade every request to the API fails with a 500 error.", "technical"),
    ("Export", "The CSV export crashes the app with an exception.", "technical"),
    ("Locked out", "I forgot my password and the reset email never arrives, I cannot log in.", "account"),
    ("New colleague", "Please add a new user to our team and give her admin permissions.", "account"),
]


@pytest.mark.parametrize(("subject", "body", "category"), SUPPORT_REQUESTS)
def test_support_requests_land_in_their_category(
    subject: str, body: str, category: str, ctx: ToolContext
) -> None:
    result = categorize_ticket.run({"subject": subject, "body": body}, ctx)
    assert result.category == category and not result.needs_review
    assert result.confidence == max(result.probabilities.values())


def test_text_with_nothing_to_go_on_is_other_and_flagged_for_review(ctx: ToolContext) -> None:
    result = categorize_ticket.run({"subject": "", "body": "zzz qqq"}, ctx)
    assert result.category == "other" and result.needs_review


def test_the_taxonomy_is_data_a_user_edits(ctx: ToolContext, tmp_path: Path) -> None:
    taxonomy = {"categories": [
        {"name": "shipping", "description": "parcels, delivery, tracking", "examples": ["where is my parcel"]},
        {"name": "returns", "description": "sending goods back", "examples": ["I want to return the shoes"]},
    ]}  # fmt: skip
    path = tmp_path / "categories.json"
    path.write_text(json.dumps(taxonomy))
    custom = replace(ctx, config=ctx.config.model_copy(update={"categories_file": path}))
    assert (
        categorize_ticket.run(
            {"subject": "Tracking", "body": "where is my parcel? no tracking"}, custom
        ).category
        == "shipping"
    )


def test_a_broken_categories_file_is_a_permanent_error_naming_the_file(
    ctx: ToolContext, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"categories": []}')
    broken = replace(ctx, config=ctx.config.model_copy(update={"categories_file": path}))
    with pytest.raises(PermanentToolError, match="bad.json"):
        categorize_ticket.run({"subject": "s", "body": "b"}, broken)


def test_training_is_cached_by_file_content(ctx: ToolContext) -> None:
    assert classifier_for(ctx.config.categories_file) is classifier_for(ctx.config.categories_file)


def test_without_the_model_auto_means_tfidf_and_asking_for_embeddings_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embeddings, "available", lambda: False)
    assert load_settings(classifier="auto").tool_config().classifier == "tfidf"
    with pytest.raises(ConfigError, match=r"TRIAGE_CLASSIFIER: .*make install"):
        load_settings(classifier="embeddings")


def test_the_default_classifier_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_CLASSIFIER")  # the suite pins tfidf (tests/conftest.py)
    assert load_settings().classifier == "auto"


CHARGED_TWICE = {
    "subject": "Charged twice",
    "body": "You charged my credit card twice this month, refund one.",
}
PAYMENT_PAGE = {"subject": "Payment page error", "body": "The payment page shows a 500 error when I pay"}


@pytest.mark.parametrize(
    ("ticket", "corrections", "category", "outcome"),
    [
        # One relabel the classifier does not support (billing 0.96): flagged, not followed.
        (CHARGED_TWICE, [("T1", "other", 0.9)], "billing", "flagged"),
        # The classifier's close runner-up (technical 0.40 beside billing 0.49) agrees: followed.
        (PAYMENT_PAGE, [("T1", "technical", 0.9)], "technical", "applied"),
        # Two like tickets corrected alike: followed.
        (CHARGED_TWICE, [("T1", "other", 0.9), ("T2", "other", 0.8)], "other", "applied"),
        # One ticket twice is one witness.
        (CHARGED_TWICE, [("T1", "other", 0.9), ("T1", "other", 0.8)], "billing", "flagged"),
    ],
)
def test_a_persons_category_for_like_tickets_wins_only_where_something_else_stands_behind_it(
    ctx: ToolContext,
    ticket: dict[str, str],
    corrections: list[tuple[str, str, float]],
    category: str,
    outcome: str,
) -> None:
    given = [{"ticket_id": t, "category": c, "similarity": s} for t, c, s in corrections]
    result = categorize_ticket.run({**ticket, "corrections": given}, ctx)
    assert (result.category, result.correction, result.needs_review) == (
        category,
        outcome,
        outcome == "flagged",
    )
