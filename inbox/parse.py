"""Turn raw RFC 5322 bytes into a Ticket (or a clear reason why not), never crashing on bad input."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from inbox.addresses import copied
from inbox.attachments import DEFAULT_LIMITS, File, FileLimits, judged
from inbox.authentication import dmarc_doubt
from inbox.file_kinds import plain_name
from inbox.headers import decode_bytes, header_text, known_charset, raw_header
from inbox.language import detect_language
from inbox.loops import automated_reason
from inbox.relay import relay_of
from inbox.sender import Sender, read_sender
from inbox.spam import DEFAULT_SCORE, spam_reason
from inbox.text import cut, html_to_text, split_reply
from inbox.ticket import Attachment, Ticket, ticket_id_for

_MSGID = re.compile(r"<([^<>\s]{1,998})>")

# Bounds on untrusted input, applied before any work on it: every later step is linear in what is kept.
MAX_SUBJECT_CHARS = 1000
MAX_BODY_CHARS = 100_000  # of the text kept as the ticket's body (Jira takes 32,767 per description)
MAX_PARTS = 500  # MIME parts read; the rest are counted, not read
MAX_DEPTH = 30  # nesting of multiparts read; deeper parts are counted, not read
MAX_TEXT_PART_BYTES = 3_000_000  # of a text part's encoded bytes, what is decoded (HTML reads 2 MB of it)


class Unparseable(Exception):
    """The message cannot become a ticket at all; it is quarantined with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    """A parsed message and, when it is machine-generated or the spam filter marked it spam, why."""

    ticket: Ticket
    automated: str | None
    spam: str | None = None


def _decode_payload(part: Message, notes: list[str]) -> str:
    """The decoded text of a leaf part, in its declared charset when the system reads it (else as UTF-8,
    noted). Its encoded bytes are cut to MAX_TEXT_PART_BYTES before anything decodes them."""
    encoded = part.get_payload()
    if isinstance(encoded, str) and len(encoded) > MAX_TEXT_PART_BYTES:
        cut = encoded.rfind("\n", 0, MAX_TEXT_PART_BYTES)  # whole lines: whole base64 quads, whole =XX
        part.set_payload(encoded[: cut if cut > 0 else MAX_TEXT_PART_BYTES])
    payload = part.get_payload(decode=True)
    charset = part.get_content_charset()
    if charset and not known_charset(charset):
        notes.append(f"a part declared the charset {charset[:40]!r}, which is not read: it was read as UTF-8")
    return decode_bytes(payload, charset) if isinstance(payload, bytes) else ""


def _filename(part: Message) -> str | None:
    """The part's file name as a plain name (inbox/file_kinds.py: no folders, no control, bidi or
    zero-width characters, no trailing dots); None when it has none."""
    try:
        name = part.get_filename()
    except Exception:
        return None
    return plain_name(header_text(name)) or None if name else None


def _leaves(msg: Message) -> tuple[list[Message], int]:
    """The parts to read, in order (iteratively: no recursion to exhaust), and how many were left out
    for passing MAX_PARTS or MAX_DEPTH. Attached messages are leaves: never descended into."""
    leaves: list[Message] = []
    skipped = 0
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        ctype = part.get_content_type().lower()
        if part.is_multipart() and not ctype.startswith("message/"):
            payload = part.get_payload()
            children = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
            if depth >= MAX_DEPTH:
                skipped += len(children)
                continue
            stack.extend((child, depth + 1) for child in reversed(children))
        elif len(leaves) < MAX_PARTS:
            leaves.append(part)
        else:
            skipped += 1
    return leaves, skipped


@dataclass
class _Texts:
    """What the walk of a message's parts reads: its plain and HTML texts, and notes on how."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _walk(msg: Message, texts: _Texts, attachments: list[Attachment], limits: FileLimits) -> int:
    """Collect body texts and the attachments (metadata, and whether each may go to the issue); return
    how many parts were left unread."""
    parts, skipped = _leaves(msg)
    attachments.extend(
        Attachment(filename=f.name, content_type=f.content_type, size=len(f.data), refused=why)
        for f, why in _judged_files(parts, texts, limits)
    )
    return skipped


def _judged_files(parts: list[Message], texts: _Texts, limits: FileLimits) -> list[tuple[File, str | None]]:
    """The attached files among these parts (their texts go to `texts`), each with why it is left out of
    the issue, or None."""
    files = [found for part in parts if (found := _read_leaf(part, texts)) is not None]
    return list(zip(files, judged([(f.name, len(f.data), f.data) for f in files], limits), strict=True))


def _read_leaf(msg: Message, texts: _Texts) -> File | None:
    """One part: text to the body; anything else is an attached file, returned."""
    ctype = msg.get_content_type().lower()
    disposition = str(msg.get("Content-Disposition", "")).lower()
    name = _filename(msg)
    if ctype.startswith("message/"):  # an attached e-mail, kept as it came
        payload = msg.get_payload()
        text = "".join(str(p) for p in payload) if isinstance(payload, list) else str(payload)
        return File(name or "attached-message.eml", ctype, text.encode("utf-8", "surrogateescape"))
    if disposition.startswith("attachment") or (name and not ctype.startswith("text/")):
        data = msg.get_payload(decode=True)
        return File(name or "(unnamed)", ctype, data if isinstance(data, bytes) else b"")
    if ctype == "text/plain" or ctype == "text":
        texts.plain.append(_decode_payload(msg, texts.notes))
    elif ctype == "text/html":
        texts.html.append(_decode_payload(msg, texts.notes))
    return None


def attachable_files(raw: bytes, limits: FileLimits) -> tuple[list[File], int]:
    """The files of a message that may go to its issue (judged as its ticket's `attachments` were, by
    the same walk and the same limits), and how many may not."""
    judged_files = _judged_files(_leaves(message_from_bytes(raw, policy=compat32))[0], _Texts(), limits)
    fit = [f for f, why in judged_files if why is None]
    return fit, len(judged_files) - len(fit)


def _received_at(msg: Message) -> datetime:
    try:
        when = parsedate_to_datetime(str(msg.get("Date")))
    except Exception:
        return datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def message_id_of(msg: Message, raw: bytes) -> str:
    """The message's Message-ID, or a stable synthetic one derived from its bytes when it has none."""
    found = _MSGID.search(header_text(msg.get("Message-ID")))
    if found:
        return found.group(1)
    return hashlib.sha256(raw).hexdigest()[:32] + "@synthetic.triage"


def parse_message(
    raw: bytes,
    *,
    max_bytes: int,
    spam_score: float = DEFAULT_SCORE,
    files: FileLimits = DEFAULT_LIMITS,
    authserv_id: str | None = None,
) -> Incoming:
    """Parse one raw e-mail into a Ticket; raise Unparseable when it cannot become one. With
    `authserv_id`, that mail server's DMARC verdict decides whether the sender is trusted."""
    if not raw.strip():
        raise Unparseable("empty message")
    if len(raw) > max_bytes:
        raise Unparseable(f"message is {len(raw)} bytes, over the {max_bytes}-byte limit")
    unread_note = ""
    try:
        msg = message_from_bytes(raw, policy=compat32)
    except RecursionError:
        # The stdlib parser recurses once per nesting level: a message nested thousands deep cannot be
        # read as MIME. Its headers still make a ticket; its body says why it is missing.
        msg = BytesHeaderParser(policy=compat32).parsebytes(raw)
        msg.set_payload("")
        unread_note = "[the message's MIME parts are nested too deep to read; none was read]"
    except Exception as exc:  # the stdlib parser is lenient; this is the last line of defence
        raise Unparseable(f"MIME parser failed: {exc!r}") from exc
    if not msg.keys():
        raise Unparseable("no header fields: not an e-mail message")
    sender = read_sender(msg.get_all("From") or [])
    from_header = header_text(msg.get("From"))
    subject = header_text(msg.get("Subject"))[:MAX_SUBJECT_CHARS]
    automated = automated_reason(msg, subject, sender.address or from_header)
    if not sender.address and automated is None:
        # The header's text stays out of the reason: reasons are logged, and it may be a person's name.
        raise Unparseable(f"no sender address in From: ({len(from_header)} characters, no address in them)")
    body, signature, attachments = _body(msg, files, unread_note)
    message_id = message_id_of(msg, raw)
    doubt = _doubt(msg, sender, authserv_id)
    replies_to = _MSGID.findall(
        header_text(msg.get("In-Reply-To")) + " " + header_text(msg.get("References"))
    )
    ticket = Ticket(
        id=ticket_id_for(message_id),
        message_id=message_id,
        subject=subject,
        sender=sender.address,
        sender_name=sender.name,
        sender_doubt=doubt,
        sender_authenticated=bool(authserv_id) and doubt is None,
        relay=relay_of(msg),
        body=body,
        signature=signature,
        attachments=attachments,
        in_reply_to=list(dict.fromkeys(reversed(replies_to))),
        cc=copied(raw_header(msg.get("Cc")), sender.address),
        received_at=_received_at(msg),
        size=len(raw),
        language=detect_language(subject, body),
    )
    return Incoming(ticket=ticket, automated=automated, spam=spam_reason(msg, spam_score))


def _body(msg: Message, files: FileLimits, unread_note: str) -> tuple[str, str, list[Attachment]]:
    """The new text of a message (plain, else its HTML read as text), its signature, its attachments; the
    body ends with notes on what was not read, or not read as declared."""
    texts = _Texts()
    attachments: list[Attachment] = []
    try:
        unread = _walk(msg, texts, attachments, files)
    except Exception as exc:
        raise Unparseable(f"cannot read the MIME structure: {exc!r}") from exc
    text = "\n\n".join(t for t in texts.plain if t.strip())
    text = text or "\n\n".join(html_to_text(h, MAX_BODY_CHARS) for h in texts.html)
    body, signature = split_reply(cut(text, MAX_BODY_CHARS))
    notes = [unread_note] if unread_note else [body]
    if unread:
        notes.append(
            f"[{unread} more MIME part(s) not read: over {MAX_PARTS} parts or {MAX_DEPTH} levels deep]"
        )
    notes += [f"[{note}]" for note in dict.fromkeys(texts.notes)][:5]
    return "\n\n".join(notes), signature, attachments


def _doubt(msg: Message, sender: Sender, authserv_id: str | None) -> str | None:
    """Why the sender address is not to be trusted: the From header's own reading, then, when the
    operator names their mail server, its DMARC verdict."""
    if sender.doubt or not authserv_id or not sender.address:
        return sender.doubt
    results = [header_text(value) for value in msg.get_all("Authentication-Results") or []]
    return dmarc_doubt(results, authserv_id, sender.address.rpartition("@")[2])
