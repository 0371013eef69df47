"""Who a message is from and who else it names: the From address (even unquoted or glued to words),
the plain addresses in Cc. The one reading of these headers: ingest, erasure and previews use it."""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr

from inbox.headers import MAX_HEADER_CHARS, header_text

MAX_CC = 20  # Cc addresses a ticket keeps
_PLAIN_ADDRESS = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+")


def address_in(raw: bytes) -> str:
    """The sender address of raw mail as ingest reads it (decoded, unquoted forms too); '' if none."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw, headersonly=True)
        return sender_of(header_text(headers.get("From")))[1].strip().lower()
    except Exception:  # unreadable headers: no address to match
        return ""


_LOCAL_PART = re.compile(r"[\w.+'=-]{1,64}\Z")
_DOMAIN = re.compile(r"[\w-]{1,63}(?:\.[\w-]{1,63})+")


def _bare_address(text: str) -> tuple[int, str] | None:
    """The first address-like `local@domain` in free text and where it starts. Linear: it looks only
    around each '@', in windows as long as an address part may be (local 64, domain 255)."""
    at = text.find("@")
    while at != -1:
        local = _LOCAL_PART.search(text, max(0, at - 64), at)
        domain = _DOMAIN.match(text, at + 1, at + 256)
        if local and domain:
            return local.start(), f"{local.group(0)}@{domain.group(0)}"
        at = text.find("@", at + 1)
    return None


def sender_of(from_header: str) -> tuple[str, str]:
    """(display name, address) from a From header, even when the display name is unquoted
    (`Gina Gdpr gina@example.com`). The one reading of From: ingest and erasure both use it."""
    from_header = from_header[:MAX_HEADER_CHARS]
    name, address = parseaddr(from_header)
    if "@" not in address or any(ch.isspace() for ch in address):  # no address, or words glued to one
        found = _bare_address(from_header)
        if found:
            start, address = found
            name = from_header[:start].strip().strip('"<').strip()
    return name, address


def copied(cc_header: str, sender: str) -> list[str]:
    """The plain addresses in a Cc header (lower case, no names, each once, not the sender's), at most
    MAX_CC: what a service desk may make request participants of (tools/jira_issue.py decides whom)."""
    found = []
    for _, address in getaddresses([cc_header[:MAX_HEADER_CHARS]]):
        plain = address.strip().lower()
        if _PLAIN_ADDRESS.fullmatch(plain) and plain != sender and plain not in found:
            found.append(plain)
    return found[:MAX_CC]
