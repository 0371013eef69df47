"""Loop protection against the sisimai corpus: machine-generated mail never becomes a ticket."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.parse import parse_message
from tests.support import CORPORA, email_bytes, needs_corpora

MAILDIR = CORPORA / "bounces-sisimai" / "maildir"
MACHINE_MADE = sorted(p for sub in ("bsd", "dos", "mac", "err", "tmp") for p in (MAILDIR / sub).glob("*.eml"))


def automated(raw: bytes) -> str | None:
    return parse_message(raw, max_bytes=10_000_000).automated


@needs_corpora
def test_the_bounce_corpus_is_present() -> None:
    assert len(MACHINE_MADE) > 800


@needs_corpora
@pytest.mark.parametrize("path", MACHINE_MADE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_bounce_and_auto_reply_is_recognised_as_automated(path: Path) -> None:
    assert automated(path.read_bytes())


@needs_corpora
@pytest.mark.parametrize("name", ["is-not-bounce-01.eml", "is-not-bounce-02.eml"])
def test_human_messages_in_not_are_not_automated(name: str) -> None:
    assert automated((MAILDIR / "not" / name).read_bytes()) is None


@needs_corpora
def test_a_mailbox_full_notice_with_auto_submitted_is_automated_although_sisimai_files_it_under_not() -> None:
    # sisimai's "not/" means "not a bounce sisimai can decode". This one carries
    # Auto-Submitted: auto-replied from postmaster@ (RFC 3834): a ticket from it would answer a machine.
    reason = automated((MAILDIR / "not" / "rb-issue-368-bug.eml").read_bytes())
    assert reason == "Auto-Submitted: auto-replied"


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-generated"}, "jane@example.com"),
        ({"Precedence": "bulk"}, "jane@example.com"),
        ({"Precedence": "list"}, "jane@example.com"),
        ({"X-Autoreply": "yes"}, "jane@example.com"),
        ({"X-Autorespond": "vacation"}, "jane@example.com"),
        ({}, "MAILER-DAEMON@mx.example.com"),
        ({}, "no-reply@service.example.com"),
    ],
)
def test_loop_signals_from_the_issue_are_each_enough(headers: dict[str, str], sender: str) -> None:
    assert automated(email_bytes(sender=sender, headers=headers))


def test_auto_submitted_no_is_a_human_message() -> None:
    assert automated(email_bytes(headers={"Auto-Submitted": "no"})) is None
