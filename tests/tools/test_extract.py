"""extract_entities: name, account id and urgency, each with where it came from."""

from __future__ import annotations

from typing import Any

import pytest

from tools.base import ToolContext
from tools.extract import extract_entities


def extract(ctx: ToolContext, **args: Any) -> dict[str, Any]:
    return extract_entities.run({"subject": "", **args}, ctx).model_dump()


def test_the_signature_block_names_the_customer(ctx: ToolContext) -> None:
    got = extract(ctx, body="It is broken.", signature="Tom Becker\nCTO, Acme", sender_name="Ops")
    assert (got["customer_name"], got["customer_name_source"]) == ("Tom Becker", "signature")


@pytest.mark.parametrize(
    "body",
    [
        "Please help.\n\nThanks,\nPriya",
        "Please help.\n\nBest regards,\nPriya Raman\nACME",
        "Please help.\nCheers, Priya",
    ],
)
def test_a_closing_line_names_the_customer(ctx: ToolContext, body: str) -> None:
    assert extract(ctx, body=body)["customer_name"].startswith("Priya")


def test_the_from_display_name_is_the_last_resort_and_outlook_order_is_fixed(ctx: ToolContext) -> None:
    got = extract(ctx, body="It is broken.", sender_name="Becker, Tom")
    assert (got["customer_name"], got["customer_name_source"]) == ("Tom Becker", "From display name")
    assert extract(ctx, body="It is broken.", sender_name="Support Team")["customer_name"] is None


@pytest.mark.parametrize("text", ["account ACC12345", "Account: acc-12345", "ref ACC 12345."])
def test_account_ids_are_found_and_normalised(ctx: ToolContext, text: str) -> None:
    got = extract(ctx, body=text)
    assert (got["account_id"], got["account_id_source"]) == ("ACC12345", "body")


def test_the_account_pattern_is_configurable(ctx: ToolContext) -> None:
    from dataclasses import replace

    custom = replace(ctx, config=ctx.config.model_copy(update={"account_id_pattern": r"\bCUST-\d{3}\b"}))
    assert extract(custom, body="I am CUST-042")["account_id"] == "CUST042"


@pytest.mark.parametrize(
    ("subject", "body", "urgency"),
    [
        ("URGENT: help", "", "high"),
        ("", "Our production is down", "high"),
        ("", "please fix this as soon as\npossible", "high"),
        ("", "this is not urgent, no rush", "low"),
        ("", "Whenever you get a chance, could you look at this?", "low"),
        ("", "The export is slow.", "medium"),
    ],
)
def test_urgency_comes_from_the_wording(ctx: ToolContext, subject: str, body: str, urgency: str) -> None:
    got = extract(ctx, subject=subject, body=body)
    assert got["urgency"] == urgency and got["urgency_source"]


def test_each_finding_quotes_the_words_it_was_read_from_and_each_quote_is_in_the_mail(
    ctx: ToolContext,
) -> None:
    args = {"subject": "URGENT: cannot log in", "body": "Hello,\nmy account acc-00123 is\nlocked since Monday.\n"
            "Order #A-5521.\n\nThanks,\nJürgen Müller", "signature": "", "sender_name": "J. Müller"}  # fmt: skip
    result = extract_entities.run(args, ctx)
    assert result.evidence["account_id"] == "acc-00123" and result.account_id == "ACC00123"
    assert result.evidence["urgency"] == "URGENT" and result.evidence["customer_name"] == "Jürgen Müller"
    mail = " ".join(f"{args['subject']} {args['body']} {args['sender_name']}".split()).casefold()
    assert all(" ".join(words.split()).casefold() in mail for words in result.evidence.values())


def test_the_issue_description_shows_the_evidence(ctx: ToolContext) -> None:
    from tools.jira_issue import CreateIssueArgs, build_issue_payload

    args = CreateIssueArgs(subject="s", body="b", sender="a@example.com", category="account", urgency="high",
                           evidence={"account_id": "acc-00123", "urgency": "URGENT"})  # fmt: skip
    description = build_issue_payload(args, ctx)["fields"]["description"]
    assert (
        "Read in the mail:\n- account id: \u201cacc-00123\u201d\n- urgency: \u201cURGENT\u201d" in description
    )
