"""The text the system writes into Jira: within Jira's limits, free of control characters, and inert.

Jira renders wiki markup: a mail that closes a {quote} early would put its own headings, links,
external images and fake `From:/Account:` lines into the issue as live markup. Everything a mail (or a
model that read it) wrote goes in a {noformat} block, which renders literally, or, inside a line of the
system's own, with every markup character escaped. Also here: the parts of an issue's description that
list what was read in the mail and what became of its files."""

from __future__ import annotations

import re
from typing import Any

SUMMARY_MAX = 255  # Jira refuses longer summaries
DESCRIPTION_MAX = 32_767  # Jira refuses longer text fields (descriptions, comments)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters but tab and newline


_NOFORMAT = re.compile(r"\{(\s*noformat)", re.IGNORECASE)
_MARKUP = re.compile(r"([\\{}\[\]!|*_^~])")  # macros, links, images, tables, emphasis; `-` reads as text


def jira_text(text: str, limit: int, where: str) -> str:
    """Text Jira takes: no control characters (a NUL or an escape sequence from a mail), and at most
    `limit` characters, cut with a note that says where the whole text is."""
    text = CONTROL.sub("", text)
    if len(text) <= limit:
        return text
    note = f"\n[cut: {len(text) - limit + 200} more characters; the whole text: {where}]"
    return text[: limit - len(note)] + note


def literal(text: str, limit: int, where: str) -> str:
    """A stranger's text as a {noformat} block, which Jira renders as it is: no markup in it is read,
    and nothing in it can end the block (`{noformat` in it is broken up). Longer than `limit`, the
    text is cut, and the note saying where the whole text is follows the block."""
    text = _NOFORMAT.sub(r"{ \1", CONTROL.sub("", text))
    kept = text[: max(0, limit - 40)]
    note = (
        f"\n[cut: {len(text) - len(kept)} more characters; the whole text: {where}]" if kept != text else ""
    )
    return f"{{noformat}}\n{kept}\n{{noformat}}{note}"


def inline(text: str, limit: int) -> str:
    """A stranger's words inside a line of the system's own (a name, a file name, a quote): one line,
    at most `limit` characters, every wiki markup character escaped so that it shows as itself, and no
    `scheme://` that Jira would turn into a link."""
    flat = " ".join(CONTROL.sub(" ", text).split())[:limit].replace("://", ": //")  # no link either
    return _MARKUP.sub(r"\\\1", flat)


def summary_text(category: str, subject: str) -> str:
    """The issue's one-line summary: category and subject, no control characters, at most 255."""
    one_line = " ".join(CONTROL.sub(" ", subject).split()) or "(no subject)"
    return f"[{category}] {one_line}"[:SUMMARY_MAX]


def evidence_lines(evidence: dict[str, str] | None) -> list[str]:
    """Where each finding was read in the mail, quoted (the extractor checked each quote is in it)."""
    if not evidence:
        return []
    quotes = [
        f"- {field.replace('_', ' ')}: \u201c{inline(words, 120)}\u201d"
        for field, words in sorted(evidence.items())
    ]
    return ["Read in the mail:", *quotes]


def attachment_lines(attachments: list[Any] | None) -> list[str]:
    """Every file the customer attached, and whether it is on the issue or why not."""
    lines = []
    for item in (a for a in attachments or [] if isinstance(a, dict)):
        name = inline(str(item.get("filename") or "(unnamed)"), 120)
        fate = f"left out: {item['refused']}" if item.get("refused") else "attached"
        lines.append(
            f"- {name} ({item.get('content_type', '?')}, {int(item.get('size') or 0):,} bytes): {fate}"
        )
    return ["Attachments:", *lines] if lines else []
