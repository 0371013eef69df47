"""Turn raw RFC 5322 bytes into a Ticket (or a clear reason why not), never crashing on bad input."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime

from inbox.loops import automated_reason
from inbox.text import html_to_text, split_reply
from inbox.ticket import Attachment, Ticket, ticket_id_for

_MSGID = re.compile(r"<([^<>\s]+)>")


class Unparseable(Exception):
    """The message cannot become a ticket at all; it is quarantined with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    """A parsed message and, when it is machine-generated, why."""

    ticket: Ticket
    automated: str | None


# Senders label text with a charset narrower than what they wrote; decode with the superset.
_CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "iso-8859-8-i": "iso-8859-8",
    "unknown-8bit": "utf-8",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode bytes in a declared charset, tolerating unknown names and bad bytes."""
    name = (charset or "utf-8").strip().strip('"').lower()
    name = _CHARSET_SUPERSETS.get(name, name)
    try:
        return data.decode(name, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _text(value: object) -> str:
    """A header value as clean text: RFC 2047 words decoded, raw 8-bit bytes read as UTF-8."""
    if value is None:
        return ""
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        chunks = decode_header(raw)
        decoded = "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in chunks
        )
    except Exception:  # a broken encoded-word: keep the raw text
        decoded = raw
    return re.sub(r"\s+", " ", decoded).strip()


def _decode_payload(part: Message) -> str:
    """The decoded text of a leaf part, in its declared charset (falling back to UTF-8)."""
    payload = part.get_payload(decode=True)
    return decode_bytes(payload, part.get_content_charset()) if isinstance(payload, bytes) else ""


_BARE_ADDRESS = re.compile(r"<?([\w.+'=-]+@[\w-]+(\.[\w-]+)+)>?")


def _sender(from_header: str) -> tuple[str, str]:
    """(display name, address) from a From header, even when the display name is unquoted."""
    name, address = parseaddr(from_header)
    if "@" not in address:
        found = _BARE_ADDRESS.search(from_header)
        if found:
            address = found.group(1)
            name = from_header[: found.start()].strip().strip('"')
    return name, address


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return _text(name) if name else None


def _walk(msg: Message, plain: list[str], html: list[str], attachments: list[Attachment]) -> None:
    """Collect body texts and attachment metadata, without descending into attached messages."""
    ctype = msg.get_content_type().lower()
    disposition = str(msg.get("Content-Disposition", "")).lower()
    if ctype == "message/rfc822" or (msg.is_multipart() and ctype.startswith("message/")):
        size = len(msg.as_bytes()) if msg.is_multipart() else len(str(msg.get_payload()))
        attachments.append(Attachment(filename=_filename(msg), content_type=ctype, size=size))
        return
    if msg.is_multipart():
        payload = msg.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                _walk(sub, plain, html, attachments)
        return
    name = _filename(msg)
    if disposition.startswith("attachment") or (name and not ctype.startswith("text/")):
        data = msg.get_payload(decode=True)
        size = len(data) if isinstance(data, bytes) else 0
        attachments.append(Attachment(filename=name, content_type=ctype, size=size))
    elif ctype == "text/plain" or ctype == "text":
        plain.append(_decode_payload(msg))
    elif ctype == "text/html":
        html.append(_decode_payload(msg))


def _received_at(msg: Message) -> datetime:
    try:
        when = parsedate_to_datetime(str(msg.get("Date")))
    except Exception:
        return datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def message_id_of(msg: Message, raw: bytes) -> str:
    """The message's Message-ID, or a stable synthetic one derived from its bytes when it has none."""
    found = _MSGID.search(_text(msg.get("Message-ID")))
    if found:
        return found.group(1)
    return hashlib.sha256(raw).hexdigest()[:32] + "@synthetic.triage"


def parse_message(raw: bytes, *, max_bytes: int) -> Incoming:
    """Parse one raw e-mail into a Ticket; raise Unparseable when it cannot become one."""
    if not raw.strip():
        raise Unparseable("empty message")
    if len(raw) > max_bytes:
        raise Unparseable(f"message is {len(raw)} bytes, over the {max_bytes}-byte limit")
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except Exception as exc:  # the stdlib parser is lenient; this is the last line of defence
        raise Unparseable(f"MIME parser failed: {exc!r}") from exc
    if not msg.keys():
        raise Unparseable("no header fields: not an e-mail message")
    from_header = _text(msg.get("From"))
    name, address = _sender(from_header)
    subject = _text(msg.get("Subject"))
    automated = automated_reason(msg, subject, address or from_header)
    if "@" not in address and automated is None:
        raise Unparseable(f"no sender address in From: {from_header[:120]!r}")
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    try:
        _walk(msg, plain, html, attachments)
    except Exception as exc:
        raise Unparseable(f"cannot read the MIME structure: {exc!r}") from exc
    text = "\n\n".join(t for t in plain if t.strip()) or "\n\n".join(html_to_text(h) for h in html)
    body, signature = split_reply(text)
    message_id = message_id_of(msg, raw)
    replies_to = _MSGID.findall(_text(msg.get("In-Reply-To")) + " " + _text(msg.get("References")))
    ticket = Ticket(
        id=ticket_id_for(message_id),
        message_id=message_id,
        subject=subject,
        sender=address.lower(),
        sender_name=name.strip().strip('"'),
        body=body,
        signature=signature,
        attachments=attachments,
        in_reply_to=list(dict.fromkeys(reversed(replies_to))),
        received_at=_received_at(msg),
        size=len(raw),
    )
    return Incoming(ticket=ticket, automated=automated)
