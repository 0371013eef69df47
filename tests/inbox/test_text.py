"""Quoted-reply and signature trimming, checked against talon's real client replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.parse import parse_message
from inbox.text import html_to_text, split_reply
from tests.support import CORPORA, needs_corpora

TALON = CORPORA / "replies-talon" / "tests" / "fixtures" / "standard_replies"


@needs_corpora
@pytest.mark.parametrize("path", sorted(TALON.glob("*.eml")), ids=lambda p: p.name)
def test_each_mail_clients_reply_is_reduced_to_the_new_text(path: Path) -> None:
    ticket = parse_message(path.read_bytes(), max_bytes=1_000_000).ticket
    assert ticket.body == "Hello"


@needs_corpora
def test_iphone_and_sparrow_signatures_are_trimmed() -> None:
    assert split_reply((TALON / "iphone_reply_text").read_text()) == ("Hello", "")
    body, signature = split_reply((TALON / "sparrow_reply_text").read_text())
    assert body == "Hello" and signature.startswith("xxx")


def test_bottom_posted_reply_keeps_the_text_below_the_quote() -> None:
    text = "On Mon, Jane wrote:\n> old question\n> more\n\nMy new answer\n"
    assert split_reply(text) == ("My new answer", "")


def test_outlook_original_message_block_is_dropped() -> None:
    text = "New text\n\n-----Original Message-----\nFrom: a@b\nSent: today\nold text\n"
    assert split_reply(text)[0] == "New text"


def test_html_to_text_keeps_visible_text_and_drops_scripts() -> None:
    html = "<html><head><style>p{}</style><script>x()</script></head><body><p>Hi &amp; bye</p><ul><li>one</li></ul>"
    assert html_to_text(html) == "Hi & bye\n\n- one"
