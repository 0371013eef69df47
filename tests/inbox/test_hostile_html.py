"""What the standard library does with hostile mail bodies, bounded: HTML that never closes what it opens
(1 MB and 10 MB of `<!--`, `<a `, an open quote ...) costs linear time, not the quadratic time
HTMLParser took (1 MB of `<!--` was 13 minutes), and a declared charset is looked up only when the
standard library ships it as a plain text encoding (punycode decodes in quadratic time; invented names
stayed in the codec cache for good)."""

from __future__ import annotations

import encodings
import time

import pytest

from inbox.headers import decode_bytes
from inbox.parse import MAX_BODY_CHARS, parse_message
from inbox.text import html_to_text

SHAPES = ["<!--", "<a ", '<a href="', "<a b='", "<", "</", "<!", "<?", "<![CDATA[", "<!x>", "<b></b>", "<p>"]
BUDGET_S = 5.0  # for 10 MB on a loaded 2-core machine; the quadratic parser needed hours


def seconds(shape: str, size: int) -> float:
    html = shape * (size // len(shape))
    started = time.perf_counter()
    html_to_text(html, MAX_BODY_CHARS)
    return time.perf_counter() - started


@pytest.mark.parametrize("shape", SHAPES)
def test_html_that_never_closes_costs_linear_time_at_1_and_10_mb(shape: str) -> None:
    small, large = seconds(shape, 1_000_000), seconds(shape, 10_000_000)
    assert large < BUDGET_S, f"{shape!r}: 10 MB took {large:.2f}s"
    assert large < 30 * max(small, 0.01), f"{shape!r}: 1 MB {small:.3f}s, 10 MB {large:.3f}s (not linear)"


def test_an_unclosed_construct_hides_what_follows_it_as_a_browser_does() -> None:
    assert html_to_text("<p>Invoice wrong</p><!-- <p>hidden") == "Invoice wrong"
    assert html_to_text('<p>Hi</p><a href="x>y">link</a> and 1 < 2') == "Hi\nlink and 1 < 2"
    assert html_to_text("<p>ok</p><script>if (a < b) { '</p>' }</script><p>shown</p>") == "ok\n\nshown"
    assert html_to_text('<p>ok</p><a title="never closed>text') == "ok"


def test_an_html_only_mail_of_10_mb_of_comment_openers_becomes_a_ticket_at_once() -> None:
    raw = (
        b"From: Mal <mal@example.com>\r\nSubject: hi\r\nMessage-ID: <h@example.com>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>My invoice is wrong</p>" + b"<!--" * 2_500_000
    )
    started = time.perf_counter()
    ticket = parse_message(raw, max_bytes=11_000_000).ticket
    assert time.perf_counter() - started < BUDGET_S and ticket.body == "My invoice is wrong"


def test_a_punycode_body_is_read_as_utf8_and_invented_charsets_leave_no_trace() -> None:
    started = time.perf_counter()
    assert decode_bytes(b"a" * 1_000_000, "punycode") == "a" * 1_000_000
    assert time.perf_counter() - started < BUDGET_S
    before = len(encodings._cache)  # type: ignore[attr-defined]
    for i in range(400):
        assert decode_bytes("é".encode(), f"x-invented-{i}-" + "z" * 20_000) == "é"
    assert len(encodings._cache) == before  # type: ignore[attr-defined]
    assert decode_bytes("é".encode("latin-1"), "ISO-8859-1") == "é"  # real charsets still decode
    assert decode_bytes("дом".encode("koi8-r"), "koi8-r") == "дом"
