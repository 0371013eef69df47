"""The spam gate reads what the mail server's spam filter said, one way only: a flag makes a message
spam; a missing or negative flag never makes spam a ticket."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

import pytest

from inbox.parse import parse_message
from inbox.spam import spam_reason
from tests.support import CORPORA, email_bytes, needs_corpora


def reason(*fields: tuple[str, str], threshold: float = 15.0) -> str | None:
    raw = email_bytes(headers=dict(fields))
    return spam_reason(message_from_bytes(raw, policy=compat32), threshold)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ((("X-Spam-Flag", "YES"),), "spam: X-Spam-Flag: YES"),
        ((("X-Spam-Flag", "yes"),), "spam: X-Spam-Flag: YES"),
        ((("X-Spam-Status", "Yes, score=9.1 required=5.0 tests=BAYES_99"),), "spam: X-Spam-Status: Yes"),
        ((("X-Spamd-Result", "default: True [16.20 / 15.00]; R_SPF_FAIL(1.00)[-all]"),), "score 16.2"),
        (
            (("X-Spamd-Result", "default: False [15.50 / 20.00]; BAYES_SPAM(5.1)"),),
            "score 15.5 (threshold 15)",
        ),
        ((("X-Spam-Flag", "NO"), ("X-Spam-Status", "No, score=-1.9 required=5.0")), None),
        ((("X-Spamd-Result", "default: False [3.10 / 15.00]; R_DKIM_ALLOW(-0.20)"),), None),
        ((("X-Spamd-Result", "garbage [99 / 1]"),), None),
        ((("X-Spamd-Result", "default: False [" + "9" * 5000 + " / 15.00]"),), None),
        ((), None),
    ],
)
def test_the_spam_filters_verdict_is_read_from_its_header_fields(fields: tuple[tuple[str, str], ...],
                                                                  says: str | None) -> None:  # fmt: skip
    found = reason(*fields)
    assert (found is None) if says is None else (found is not None and says in found)


def test_the_rspamd_score_threshold_is_a_setting() -> None:
    spamd = ("X-Spamd-Result", "default: False [8.00 / 15.00]")
    assert (
        reason(spamd) is None and reason(spamd, threshold=6.0) == "spam: X-Spamd-Result score 8 (threshold 6)"
    )


def test_a_parsed_message_says_why_it_is_spam() -> None:
    raw = email_bytes(headers={"X-Spam-Flag": "YES"})
    assert parse_message(raw, max_bytes=10_000).spam == "spam: X-Spam-Flag: YES"
    assert parse_message(email_bytes(), max_bytes=10_000).spam is None


@needs_corpora
def test_no_message_of_the_corpora_whose_filter_said_no_is_spam() -> None:
    said_no = 0
    for path in sorted(Path(CORPORA).rglob("*.eml")):
        raw = path.read_bytes()
        if b"X-Spam-Status: No" in raw or b"X-Spam-Flag: NO" in raw:
            said_no += 1
            assert spam_reason(message_from_bytes(raw, policy=compat32)) is None, path
    assert said_no >= 5
