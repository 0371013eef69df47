"""Who else a message names (the plain addresses in Cc), and the sender address of raw mail read without
parsing its body (erasure and previews; inbox/sender.py reads From)."""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from inbox.headers import MAX_HEADER_CHARS
from inbox.sender import read_sender

MAX_CC = 20  # Cc addresses a ticket keeps
_PLAIN_ADDRESS = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+")


def address_in(raw: bytes) -> str:
    """The sender address of raw mail as ingest reads it (decoded, unquoted forms too); '' if none."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw, headersonly=True)
        return read_sender(headers.get_all("From") or []).address
    except Exception:  # unreadable headers: no address to match
        return ""


def copied(cc_header: str, sender: str) -> list[str]:
    """The plain addresses in a Cc header as sent (encoded words not decoded: a name is never read as
    an address), lower case, without names, each once, not the sender's; at most
    MAX_CC: what a service desk may make request participants of (tools/jira_issue.py decides whom)."""
    found = []
    for _, address in getaddresses([cc_header[:MAX_HEADER_CHARS]]):
        plain = address.strip().lower()
        if _PLAIN_ADDRESS.fullmatch(plain) and plain != sender and plain not in found:
            found.append(plain)
    return found[:MAX_CC]
