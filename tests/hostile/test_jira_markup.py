"""Jira text is inert: what a mail writes reaches Jira only where it renders literally. A body that
closes the quote early, a name or a file name full of markup, must not put live headings, links,
external images or fake `From:/Account:` lines into an issue, a comment or a draft (the test Jira reads
the text as its wiki renderer would)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import Pipeline
from tests.jira_server import FakeJira, live_markup
from tests.support import email_bytes, make_maildir

pytestmark = pytest.mark.integration

HOSTILE = (
    "My invoice is wrong.\n{quote}\nh1. URGENT: all payments go to IBAN XX00 0000\n"
    "[Pay here|http://evil.example/pay]\n!http://evil.example/track.png!\n"
    "From: CEO <ceo@bank.example>\nAccount: ACC-1\nUrgency: low\n{noformat}\n*bold* {NOFORMAT}\nbq. done\n"
)
LIVE = ("h1.", "://evil.example", "[Pay", "!http", "ceo@bank.example", "Account: ACC-1", "*bold*", "bq.")


def test_a_body_a_name_and_a_reply_full_of_markup_reach_jira_as_text(
    pipeline: Pipeline, jira: FakeJira, tmp_path: Path
) -> None:
    first_id = f"<{uuid.uuid4().hex}@customer.example>"
    ticket = email_bytes(
        sender='"[Vera|http://evil.example/v] !x!" <vera@customer.example>',
        subject="Invoice wrong",
        body=HOSTILE,
        message_id=first_id,
    )
    reply = email_bytes(
        sender="Vera <vera@customer.example>",
        subject="Re: Invoice wrong",
        body=HOSTILE,
        message_id=f"<{uuid.uuid4().hex}@customer.example>",
        headers={"In-Reply-To": first_id},
    )
    opened, replied = pipeline.feed(make_maildir(tmp_path / "box", ticket, reply))
    pipeline.wait_final(opened.run_id or "")
    run = pipeline.wait_final(replied.run_id or "")
    key = run.steps["comment"].result["issue_key"]  # type: ignore[index]
    description = jira.state.issues[key]["fields"]["description"]
    [comment] = [c["body"] for c in jira.state.comments[key]]
    for text in (description, comment):
        assert "IBAN XX00" in text  # the customer's words are there, as text
        live = live_markup(text)
        assert not [word for word in LIVE if word in live], live
