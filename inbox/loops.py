"""Mail-loop protection: recognise auto-replies, bounces and bulk mail that must never become tickets.

Decided from evidence, by the table in docs/loops.md: one strong signal is enough (a header only
machines write, a delivery report, a null envelope sender, a mailer daemon, an auto-reply subject
prefix); weak signals (Precedence: bulk, a no-reply address, a bounce-like subject) count only two or
more together, so no subject keyword or address alone drops a person's mail.
"""

from __future__ import annotations

import re
from contextlib import suppress
from email.message import Message
from email.utils import parseaddr

_DAEMONS = re.compile(r"^(mailer-?daemon|mail-daemon|post_?master)(\+.*)?$", re.IGNORECASE)
_MACHINE_LOCALPARTS = re.compile(
    r"^(no-?reply|do-?not-?reply|bounces?|.+-(bounces|request|owner))(\+.*)?$", re.IGNORECASE
)
_LIST_MANAGER_HEADERS = ("x-mlserver", "x-ml-name", "x-loop-alert")
_REPORT_TYPES = {"message/delivery-status", "message/disposition-notification", "message/feedback-report"}
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder")
_FALSE = {"no", "false", "off", "0"}
# "Automatic reply: <the subject>" as mail servers write it, in en, de, fr, es, it, nl, pt, sv, da, no, pl,
# cs and fi. A prefix with its colon: "Out of office next week, cancel my plan" is a person writing.
_AUTO_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?response"
    r"|auto[- ]?reply|vacation(?: reply)?|abwesenheit(?:snotiz)?|automatische antwort|abwesend"
    r"|r[ée]ponse automatique|absence(?: du bureau)?|absent(?:e)? du bureau|respuesta autom[áa]tica"
    r"|fuera de la oficina|ausente|risposta automatica|fuori (?:sede|ufficio)|assente"
    r"|automatisch antwoord|afwezig(?:heid)?|niet aanwezig|resposta autom[áa]tica"
    r"|fora do escrit[óo]rio|ausente do escrit[óo]rio"
    r"|fr[åa]nvaro|fr[åa]nvarande|autosvar|automatiskt svar|frav[æe]r(?:ende)?|automatisk svar"
    r"|poza biurem|nieobecno[śs][ćc]|automatyczna odpowied[źz]|odpowied[źz] automatyczna"
    r"|nep[řr][íi]tomnost|mimo kancel[áa][řr]|automatick[áa] odpov[ěe][ďd]|poissa|automaattinen vastaus)\s*:",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status )?(notification|failure|failed|has failed|report)"
    r"|returned mail|mail delivery (failed|failure|subsystem|system)|failure notice|non[- ]?delivery"
    r"|delivery problem|could not be delivered|message not delivered|rejected: |autoresponder"
    r"|warning: message .{0,200}? delayed|mail system error|returned to sender|email bounce"
    r"|complaint about message|loop alert|notification message$|spam report|abuse report"
    r"|エラー通知|不達)",
    re.IGNORECASE,
)
# What an MTA's report says in its own words (a bounce forwarded inline still carries them).
_REPORT_TEXT = re.compile(
    r"(transcript of session follows|following addresses had (permanent )?(fatal )?errors"
    r"|^\W{0,3}final-recipient:|^\W{0,3}diagnostic-code:|^\W{0,3}action: failed|delivery to the following"
    r"|this is an? (email )?abuse report|could not be delivered to)",
    re.IGNORECASE | re.MULTILINE,
)
_TEXT_HEAD = 8192  # of a message's own text, what the report wording is looked for in


def _header(msg: Message, name: str) -> str:
    """A header's raw value as text (at most 1 KB), or '' when absent or undecodable."""
    try:
        return str(msg.get(name, "") or "")[:1024].strip()
    except Exception:
        return ""


def _report_types(msg: Message, limit: int = 200) -> set[str]:
    """Report content types in the message's own structure: iteratively (a deep tree cannot exhaust the
    stack), for at most `limit` parts, and never inside an attached message (a person forwarding a bounce
    as an attachment is a person writing)."""
    found: set[str] = set()
    stack = [msg]
    with suppress(Exception):  # a broken MIME tree: judge by the parts that could be read
        while stack and limit > 0:
            part = stack.pop()
            limit -= 1
            ctype = part.get_content_type().lower()
            if ctype in _REPORT_TYPES or ctype == "multipart/report":
                found.add(ctype)
            payload = part.get_payload() if part.is_multipart() and not ctype.startswith("message/") else None
            if isinstance(payload, list):
                stack.extend(p for p in payload if isinstance(p, Message))
    return found


def _own_text(msg: Message) -> tuple[str, bool]:
    """The head of the message's first text part (not inside an attached message), and whether the
    message has no text of its own besides an attached message (as a forwarded-as-attachment complaint)."""
    text, attached = "", False
    stack = [msg]
    seen = 0
    with suppress(Exception):
        while stack and seen < 200:
            part = stack.pop()
            seen += 1
            ctype = part.get_content_type().lower()
            if ctype.startswith("message/"):
                attached = True
            elif part.is_multipart():
                payload = part.get_payload()
                stack.extend(
                    reversed([p for p in payload if isinstance(p, Message)])
                    if isinstance(payload, list)
                    else []
                )
            elif ctype.startswith("text/") and not text.strip():
                data = part.get_payload(decode=True)
                text = data[:_TEXT_HEAD].decode("utf-8", "replace") if isinstance(data, bytes) else ""
    return text, attached and not text.strip()


def _local_parts(msg: Message, sender: str) -> list[str]:
    envelope = parseaddr(_header(msg, "Return-Path"))[1]
    unix_from = (msg.get_unixfrom() or "").removeprefix("From ").split(" ")[0]
    return [a.strip("<> ").split("@", 1)[0] for a in (sender, envelope, unix_from) if a.strip("<> ")]


def _strong_signal(msg: Message, subject: str, sender: str) -> str | None:
    """The first signal that alone marks a message as machine-written, or None."""
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    for name in _AUTOREPLY_HEADERS:
        value = _header(msg, name).lower()
        if msg.get(name) is not None and value not in _FALSE:
            return f"{name}: {value or '(empty)'}"
    if msg.get("X-Autogenerated") is not None:
        return f"X-Autogenerated: {_header(msg, 'X-Autogenerated')}"
    if msg.get("X-Failed-Recipients") is not None:
        return "X-Failed-Recipients header (a bounce)"
    if _header(msg, "Precedence").lower() == "auto_reply":
        return "Precedence: auto_reply"
    if _header(msg, "X-Auto-Response-Suppress").lower() in {"all", "oof"}:
        return "X-Auto-Response-Suppress marks an auto-reply"
    if reports := _report_types(msg):
        return f"delivery or disposition report ({', '.join(sorted(reports))})"
    if msg.get("Return-Path") is not None and _header(msg, "Return-Path") in {"<>", ""}:
        return "null envelope sender (Return-Path: <>)"
    for name in _LIST_MANAGER_HEADERS:
        if msg.get(name) is not None:
            return f"mailing-list manager message ({name})"
    for local in _local_parts(msg, sender):
        if _DAEMONS.match(local):
            return f"sent by a mail system ({local})"
    if _AUTO_REPLY_PREFIX.match(subject):
        return f"auto-reply subject: {subject[:80]!r}"
    return None


def _weak_signals(msg: Message, subject: str, sender: str) -> list[str]:
    """Signals a person's mail may carry too: they count only together."""
    signals = []
    precedence = _header(msg, "Precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        signals.append(f"Precedence: {precedence}")
    machine = next((local for local in _local_parts(msg, sender) if _MACHINE_LOCALPARTS.match(local)), None)
    if machine:
        signals.append(f"a machine's address ({machine})")
    if _BOUNCE_SUBJECT.search(subject):
        signals.append(f"a bounce-like subject ({subject[:60]!r})")
    if msg.get("List-Unsubscribe") is not None:
        signals.append("List-Unsubscribe (bulk mail)")
    text, only_attached = _own_text(msg)
    if _REPORT_TEXT.search(text):
        signals.append("a mail system's report in the text")
    if only_attached:
        signals.append("no text of its own, only an attached message")
    return signals


def automated_reason(msg: Message, subject: str, sender: str) -> str | None:
    """Why this message is machine-generated (auto-reply, bounce, bulk), or None for a person's mail."""
    strong = _strong_signal(msg, subject, sender)
    if strong:
        return strong
    weak = _weak_signals(msg, subject, sender)
    return " and ".join(weak) if len(weak) >= 2 else None
