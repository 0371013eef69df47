"""What the operator's own mail server says of a sender (RFC 8601 Authentication-Results), and only it.

A support address is public and its From can be forged: when TRIAGE_TRUSTED_AUTHSERV_ID names the mail
server's authserv-id, the topmost Authentication-Results header of that id decides whether the From
domain is the sender's (an aligned `dmarc=pass`). Headers of any other id are a stranger's text and are
ignored, and so are later ones of the same id (the server adds its own on top).
"""

from __future__ import annotations

import re

MAX_RESULTS_CHARS = 4096  # of one Authentication-Results header read
_COMMENT = re.compile(r"\([^()]*\)")
_DMARC = re.compile(r"(?:^|;)\s*dmarc\s*=\s*([a-z]+)([^;]*)", re.IGNORECASE)
_HEADER_FROM = re.compile(r"\bheader\.from\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


def dmarc_doubt(results: list[str], authserv_id: str, from_domain: str) -> str | None:
    """Why the From domain is not proven the sender's by the trusted server's DMARC verdict; None when
    the server reports an aligned `dmarc=pass` for that domain."""
    trusted = next((r for r in map(_uncommented, results) if _authserv_id(r) == authserv_id.lower()), None)
    if trusted is None:
        return f"no Authentication-Results from {authserv_id}: the sender is not authenticated"
    verdict = _DMARC.search(trusted)
    if verdict is None:
        return f"{authserv_id} gave no DMARC result: the sender is not authenticated"
    result = verdict.group(1).lower()
    if result != "pass":
        return f"dmarc={result} at {authserv_id}: the From address is not proven the sender's"
    domain = _HEADER_FROM.search(verdict.group(2))
    if domain is not None and domain.group(1).lower().rstrip(".") != from_domain.lower():
        return f"dmarc=pass at {authserv_id} is for {domain.group(1)[:100]}, not the From domain"
    return None


def _uncommented(value: str) -> str:
    """A header value with its (comments) removed, innermost first, and bounded."""
    text = value[:MAX_RESULTS_CHARS]
    for _ in range(8):  # comments nest; deeper ones are left as text
        text, found = _COMMENT.subn(" ", text)
        if not found:
            break
    return text


def _authserv_id(value: str) -> str:
    """The authserv-id of a (comment-free) Authentication-Results value: its first word, lower case."""
    head = value.split(";", 1)[0].split()
    return head[0].lower() if head else ""
