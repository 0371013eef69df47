"""What the standard library did with hostile mail bodies, and what the inbox does instead: HTML that
never closes what it opens (1 MB and 10 MB of `<!--`, `<a `, an open quote ...) is read by a linear
reader that hides what follows, as a browser does (HTMLParser took quadratic time: 1 MB of `<!--` was 13
minutes), and a declared charset is looked up only when the standard library ships it as a plain text
encoding (punycode decodes in quadratic time; invented names stayed in the codec cache for good). What
each costs through a real worker is measured in tests/hostile/test_real_workers.py."""

from __future__ import annotations

import encodings
import re

import pytest

from inbox.headers import decode_bytes
from inbox.parse import MAX_BODY_CHARS, MAX_TEXT_PART_BYTES, parse_message
from inbox.text import html_to_text

SHAPES = ["<!--", "<a ", '<a href="', "<a b='", "<", "</", "<!", "<?", "<![CDATA[", "<!x>", "<b></b>", "<p>"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
def test_html_that_never_closes_leaves_the_text_before_it(shape: str, size: int) -> None:
    html = "<p>My invoice is wrong</p>" + shape * (size // len(shape))
    assert html_to_text(html, MAX_BODY_CHARS).startswith("My invoice is wrong")


def test_an_unclosed_construct_hides_what_follows_it_as_a_browser_does() -> None:
    assert html_to_text("<p>Invoice wrong</p><!-- <p>hidden") == "Invoice wrong"
    assert html_to_text('<p>Hi</p><a href="x>y">link</a> and 1 < 2') == "Hi\nlink and 1 < 2"
    assert html_to_text("<p>ok</p><script>if (a < b) { '</p>' }</script><p>shown</p>") == "ok\n\nshown"
    assert html_to_text('<p>ok</p><a title="never closed>text') == "ok"


def test_an_html_only_mail_of_10_mb_of_comment_openers_becomes_a_ticket() -> None:
    raw = (
        b"From: Mal <mal@example.com>\r\nSubject: hi\r\nMessage-ID: <h@example.com>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>My invoice is wrong</p>" + b"<!--" * 2_500_000
    )
    assert parse_message(raw, max_bytes=11_000_000).ticket.body == "My invoice is wrong"


def test_a_punycode_body_is_read_as_utf8_and_noted_and_invented_charsets_leave_no_trace() -> None:
    assert decode_bytes(b"a" * 1_000_000, "punycode") == "a" * 1_000_000
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=punycode\r\n\r\nmy invoice"
    assert parse_message(raw, max_bytes=1000).ticket.body == (
        "my invoice\n\n[a part declared the charset 'punycode', which is not read: it was read as UTF-8]"
    )
    before = len(encodings._cache)  # type: ignore[attr-defined]
    for i in range(400):
        assert decode_bytes("é".encode(), f"x-invented-{i}-" + "z" * 20_000) == "é"
    assert len(encodings._cache) == before  # type: ignore[attr-defined]


def test_only_the_start_of_a_huge_text_part_is_decoded() -> None:
    raw = b"From: a@example.com\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    line = (
        b"bXkgaW52b2ljZSBpcyB3cm9uZyBteSBpbnZvaWNlIGlzIHdyb25nIG15IGludm9pY2UgaXMgd3Jv\r\n"  # 57 bytes a line
    )
    body = parse_message(raw + line * 170_000, max_bytes=20_000_000).ticket.body  # 13 MB encoded
    dropped = re.search(r"\[\.\.\. (\d+) more characters not kept\]", body)
    assert body.startswith("my invoice is wrong") and dropped is not None
    assert int(dropped.group(1)) < MAX_TEXT_PART_BYTES  # of 9.7 MB decoded, 3 MB encoded were read
