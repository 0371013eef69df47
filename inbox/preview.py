"""A safe look at a message that could not become a ticket: its header fields decoded, and the start of
its body as text. Bounded and linear in the bytes given; nothing is parsed as MIME, nothing is rendered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from inbox.addresses import address_in
from inbox.headers import header_text

PREVIEW_BYTES = 64 * 1024  # of the raw copy, what a preview reads
MAX_FIELDS = 60  # header fields shown; the rest are counted
MAX_NAME_CHARS = 80
MAX_VALUE_CHARS = 500
MAX_TEXT_CHARS = 6000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Preview:
    """What a person may look at: (name, value) of the first header fields, how many more there are, and
    the body's first characters as they arrived (still encoded, if they were: never decoded or run)."""

    fields: list[tuple[str, str]]
    more_fields: int
    text: str
    cut: bool


def preview(head: bytes, size: int) -> Preview:
    """The preview of a message whose first bytes are `head` (at most PREVIEW_BYTES are read) and whole
    size is `size`. Control and bidirectional-override characters are taken out of every string."""
    head = head[:PREVIEW_BYTES]
    blank = _BLANK_LINE.search(head)
    header_bytes, body = (head[: blank.start()], head[blank.end() :]) if blank else (head, b"")
    try:
        items = BytesHeaderParser(policy=compat32).parsebytes(header_bytes, headersonly=True).items()
    except Exception:  # the parser is lenient; unreadable headers show as none
        items = []
    fields = [
        (_clean(name)[:MAX_NAME_CHARS], _clean(header_text(value))[:MAX_VALUE_CHARS])
        for name, value in items[:MAX_FIELDS]
    ]
    text = _clean(body.decode("utf-8", "replace"))  # keeps line feeds and tabs
    cut = len(text) > MAX_TEXT_CHARS or size > len(head)
    return Preview(fields, max(0, len(items) - MAX_FIELDS), text[:MAX_TEXT_CHARS], cut)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


@dataclass(frozen=True)
class Envelope:
    """Who sent a message, about what, under which Message-ID: read from its first bytes alone, so a
    message that never became a ticket can still be found."""

    sender: str | None
    subject: str | None
    message_id: str | None


def envelope_of(head: bytes) -> Envelope:
    """The envelope of a message whose first bytes are `head` (at most PREVIEW_BYTES are read); a field
    the headers do not have, or that cannot be read, is None."""
    head = head[:PREVIEW_BYTES]
    fields = {name.lower(): value for name, value in reversed(preview(head, len(head)).fields)}
    message_id = fields.get("message-id", "").strip().strip("<>").strip()[:MAX_VALUE_CHARS]
    return Envelope(address_in(head) or None, fields.get("subject") or None, message_id or None)
