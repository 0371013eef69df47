"""The safe look at quarantined mail: bounded whatever the message, no control or direction-override
characters, header fields decoded, the body left as it arrived."""

from __future__ import annotations

import pytest

from inbox.preview import MAX_FIELDS, MAX_TEXT_CHARS, MAX_VALUE_CHARS, PREVIEW_BYTES, preview
from tests.hostile.shapes import SHAPES

BOUND = MAX_FIELDS * (80 + MAX_VALUE_CHARS) + MAX_TEXT_CHARS


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_every_hostile_shape_previews_within_its_bounds(shape) -> None:  # type: ignore[no-untyped-def]
    raw = shape.raw()
    shown = preview(raw[:PREVIEW_BYTES], len(raw))
    size = sum(len(n) + len(v) for n, v in shown.fields) + len(shown.text)
    assert size <= BOUND and len(shown.fields) <= MAX_FIELDS


def test_ten_thousand_header_fields_show_the_first_and_count_the_rest() -> None:
    raw = b"".join(b"X-Junk-%d: %d\r\n" % (i, i) for i in range(10_000)) + b"\r\nbody"
    shown = preview(raw[:PREVIEW_BYTES], len(raw))
    assert len(shown.fields) == MAX_FIELDS and shown.fields[0] == ("X-Junk-0", "0")
    assert shown.more_fields > 0 and shown.cut and shown.text == ""  # the body lies past the bytes read


def test_a_64_kb_header_is_cut_and_the_preview_is_read_from_the_first_bytes_only() -> None:
    raw = b"Subject: " + b"A" * 70_000 + b"\r\nFrom: x@example.com\r\n\r\nhello"
    shown = preview(raw, len(raw))
    assert shown.fields[0][0] == "Subject" and len(shown.fields[0][1]) == MAX_VALUE_CHARS and shown.cut


def test_encoded_words_are_decoded_and_control_and_override_characters_removed() -> None:
    raw = (
        "From: =?utf-8?q?Ren=C3=A9e?= <renee@example.com>\r\n"
        "Subject: invoice \u202egnp.exe\r\n\r\n"
        "line one\x1b[31m red\x00\r\nline two\t<script>alert(1)</script>\r\n"
    ).encode()
    shown = preview(raw, len(raw))
    assert dict(shown.fields) == {"From": "Renée <renee@example.com>", "Subject": "invoice gnp.exe"}
    assert shown.text == "line one[31m red\nline two\t<script>alert(1)</script>\n"
    assert not shown.cut
