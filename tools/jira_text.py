"""The text the system writes into Jira: within Jira's limits, free of control characters, and the
parts of an issue's description that list what was read in the mail and what became of its files."""

from __future__ import annotations

import re
from typing import Any

SUMMARY_MAX = 255  # Jira refuses longer summaries
DESCRIPTION_MAX = 32_767  # Jira refuses longer text fields (descriptions, comments)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # control characters but tab and newline


def jira_text(text: str, limit: int, where: str) -> str:
    """Text Jira takes: no control characters (a NUL or an escape sequence from a mail), and at most
    `limit` characters, cut with a note that says where the whole text is."""
    text = CONTROL.sub("", text)
    if len(text) <= limit:
        return text
    note = f"\n{{quote}}\n[cut: {len(text) - limit + 200} more characters; the whole message: {where}]"
    return text[: limit - len(note)] + note


def summary_text(category: str, subject: str) -> str:
    """The issue's one-line summary: category and subject, no control characters, at most 255."""
    one_line = " ".join(CONTROL.sub(" ", subject).split()) or "(no subject)"
    return f"[{category}] {one_line}"[:SUMMARY_MAX]


def evidence_lines(evidence: dict[str, str] | None) -> list[str]:
    """Where each finding was read in the mail, quoted (the extractor checked each quote is in it)."""
    if not evidence:
        return []
    quotes = [f"- {field.replace('_', ' ')}: \u201c{' '.join(words.split())[:120]}\u201d"
              for field, words in sorted(evidence.items())]  # fmt: skip
    return ["Read in the mail:", *quotes]


def attachment_lines(attachments: list[Any] | None) -> list[str]:
    """Every file the customer attached, and whether it is on the issue or why not."""
    lines = []
    for item in (a for a in attachments or [] if isinstance(a, dict)):
        name = " ".join(str(item.get("filename") or "(unnamed)").split())[:120]
        fate = f"left out: {item['refused']}" if item.get("refused") else "attached"
        lines.append(
            f"- {name} ({item.get('content_type', '?')}, {int(item.get('size') or 0):,} bytes): {fate}"
        )
    return ["Attachments:", *lines] if lines else []
