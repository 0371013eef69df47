"""The spam gate: what the mail server's spam filter said of a message. A stranger can add these header
fields to their own mail, so they are only ever read one way: a flag can make a message spam, never a
missing or "No" flag make spam mail a ticket.

- SpamAssassin: `X-Spam-Flag: YES`, `X-Spam-Status: Yes, score=...`
- rspamd: `X-Spamd-Result: default: True [16.20 / 15.00]; ...` (True: over its reject threshold), or a
  score at least TRIAGE_SPAM_SCORE.
"""

from __future__ import annotations

import re
from email.message import Message

DEFAULT_SCORE = 15.0  # rspamd's default reject threshold
_READ = 2000  # of each field: the verdict is at its start; a filter's symbol list can run long
_RSPAMD = re.compile(r"^\s*default\s*:\s*(true|false)\s*\[\s*(-?\d{1,6}(?:\.\d{1,4})?)\s*/", re.IGNORECASE)


def spam_reason(msg: Message, threshold: float = DEFAULT_SCORE) -> str | None:
    """Why the spam filter marked this message spam, or None when it did not (or there was none)."""
    for value in msg.get_all("X-Spam-Flag") or []:
        if str(value)[:_READ].strip().upper().startswith("YES"):
            return "spam: X-Spam-Flag: YES"
    for value in msg.get_all("X-Spam-Status") or []:
        if str(value)[:_READ].strip().upper().startswith("YES"):
            return "spam: X-Spam-Status: Yes"
    for value in msg.get_all("X-Spamd-Result") or []:
        found = _RSPAMD.match(str(value)[:_READ])
        if found is None:
            continue
        verdict, score = found.group(1).lower() == "true", float(found.group(2))
        if verdict or score >= threshold:
            return f"spam: X-Spamd-Result score {score:g} (threshold {threshold:g})"
    return None
