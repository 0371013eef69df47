"""The customer's name as their mail gives it: signature, closing line, introduction, a sign-off block,
then the From display name; a first name alone is made whole by a From name that starts with it."""

from __future__ import annotations

import re

CLOSING = re.compile(
    r"^(thanks( again| a lot| in advance)?|thank you|many thanks|thx|cheers|regards|best regards|best wishes"
    r"|best|kind regards|warm regards|sincerely|yours sincerely|yours|br|all the best|greetings|ty"
    r"|mit freundlichen gr(ü|ue)(ß|ss)en|viele gr(ü|ue)(ß|ss)e|cordialement|gracias|saludos|merci"
    r"|un saludo|bien à vous)\b[\s,.!-]*(?P<rest>.*)$",
    re.IGNORECASE,
)
NAME_LINE = re.compile(r"^[A-ZÀ-Þ][\w'\u2019.-]+(?: [A-ZÀ-Þ][\w'\u2019.-]+){0,3}$")
_INTRO = re.compile(r"\b(?i:my name is|this is|i am|i'm)\s+([A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+){0,2})")
_NOT_NAMES = {"having", "trying", "not", "getting"}
# Words a heading or a sentence has and a name has not: "Steps To Reproduce" is no one.
_NOT_IN_NAMES = {"to", "the", "of", "and", "for", "in", "on", "with", "at", "by", "a", "an", "is", "are"}
GENERIC_NAMES = {
    *("support", "team", "admin", "info", "sales", "billing", "customer", "office", "noreply", "ops"),
    *("operations", "devops", "helpdesk", "accounts", "finance", "engineering", "it", "hr", "service"),
}
_MAX_NAME_CHARS = 40


def _is_name(line: str, words: int = 1) -> bool:
    return bool(NAME_LINE.match(line)) and len(line) <= _MAX_NAME_CHARS and len(line.split()) >= words


def _name_near_closing(lines: list[str]) -> str | None:
    for i, line in enumerate(lines):
        closing = CLOSING.match(line.strip())
        if not closing:
            continue
        same_line = closing.group("rest").strip(" ,.")
        if same_line and NAME_LINE.match(same_line):
            return same_line
        following = [nxt.strip() for nxt in lines[i + 1 : i + 3] if nxt.strip()]
        if following and _is_name(following[0]):
            return following[0]
    return None


def _sign_off_block(body: str) -> str | None:
    """A full name opening the mail's last block (after a blank line) of one to three lines, with no
    closing word before it: "Kenji Watanabe / Operations lead, Kitebird"."""
    blocks = [block.strip().splitlines() for block in body.strip().split("\n\n") if block.strip()]
    if len(blocks) < 2 or not 1 <= len(blocks[-1]) <= 3:
        return None
    first = blocks[-1][0].strip()
    words = {word.lower() for word in first.split()}
    if not _is_name(first, words=2) or CLOSING.match(first) or any(c.isdigit() for c in first):
        return None
    if not words & (GENERIC_NAMES | _NOT_IN_NAMES):
        return first
    return None


def display_name(sender_name: str) -> str | None:
    """The From display name as a person's name ("Doe, Jane" as Outlook writes it is Jane Doe), or None
    when it is empty, an address, or a role (support, billing ...)."""
    display = sender_name.strip().strip("'\"")
    if not display or "@" in display or display.split()[0].lower() in GENERIC_NAMES:
        return None
    if "," in display:
        last, _, first = display.partition(",")
        display = f"{first.strip()} {last.strip()}".strip()
    return display


def _found_in_mail(body: str, signature: str) -> tuple[str | None, str | None]:
    sig_lines = [line.strip() for line in signature.splitlines() if line.strip()]
    if sig_lines and _is_name(sig_lines[0]):
        return sig_lines[0], "signature"
    name = _name_near_closing(body.splitlines()[-8:])
    if name:
        return name, "closing line"
    intro = _INTRO.search(body)
    if intro and intro.group(1).split()[0].lower() not in _NOT_NAMES:
        return intro.group(1), "introduction in body"
    name = _sign_off_block(body[-2000:])
    return (name, "sign-off block") if name else (None, None)


def find_customer_name(body: str, signature: str, sender_name: str) -> tuple[str | None, str | None]:
    """The customer's name and where it was found. What the mail says wins over the From line, except
    that a first name alone ("Priya") is made whole by a From name that starts with it ("Priya Raman")."""
    name, source = _found_in_mail(body, signature)
    display = display_name(sender_name)
    if name is None:
        return (display, "From display name") if display else (None, None)
    whole = display.split() if display else []
    if len(name.split()) == 1 and len(whole) > 1 and whole[0].lower() == name.lower():
        return display, f"{source}, made whole by the From display name"
    return name, source
