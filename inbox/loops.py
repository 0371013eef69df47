"""Mail-loop protection: recognise auto-replies, bounces and bulk mail that must never become tickets."""

from __future__ import annotations

import re
from contextlib import suppress
from email.message import Message
from email.utils import parseaddr

_DAEMON_LOCALPARTS = re.compile(
    r"^(mailer-?daemon|mail-daemon|post_?master|no-?reply|do-?not-?reply|bounces?"
    r"|.+-(admin|request|bounces|owner))(\+.*)?$",  # list managers: ml-admin, list-request, ...
    re.IGNORECASE,
)
_LIST_MANAGER_HEADERS = ("x-mlserver", "x-ml-name", "x-loop-alert")
_REPORT_TYPES = {"message/delivery-status", "message/disposition-notification", "message/feedback-report"}
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-failed-recipients")
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status )?(notification|failure|failed|has failed|report)"
    r"|returned mail|mail delivery (failed|failure|subsystem|system)|failure notice|non[- ]?delivery"
    r"|delivery problem|could not be delivered|message not delivered|rejected: |auto(matic)?[- ]?reply"
    r"|out of (the )?office|abwesenheit|autoresponder|vacation reply|spam report|abuse report"
    r"|warning: message .* delayed|mail system error|returned to sender|email bounce"
    r"|complaint about message|loop alert|notification message$)",
    re.IGNORECASE,
)


def _header(msg: Message, name: str) -> str:
    """A header's raw value as text, or '' when absent or undecodable."""
    try:
        return str(msg.get(name, "") or "").strip()
    except Exception:
        return ""


def _content_types(msg: Message) -> set[str]:
    """Every content type in the message tree, in lower case."""
    types: set[str] = set()
    with suppress(Exception):  # a broken MIME tree: judge by the parts that could be read
        for part in msg.walk():
            types.add(part.get_content_type().lower())
    return types


def automated_reason(msg: Message, subject: str, sender: str) -> str | None:
    """Why this message is machine-generated (auto-reply, bounce, bulk), or None for a human message."""
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _AUTOREPLY_HEADERS:
        if msg.get(name) is not None:
            return f"{name} header present"
    if _header(msg, "X-Auto-Response-Suppress") and _header(msg, "X-Auto-Response-Suppress").lower() in {
        "all",
        "oof",
    }:
        return "X-Auto-Response-Suppress marks an auto-reply"
    if msg.get_content_type() == "multipart/report" or _content_types(msg) & _REPORT_TYPES:
        return "delivery or disposition report (multipart/report)"
    envelope = parseaddr(_header(msg, "Return-Path"))[1]
    if msg.get("Return-Path") is not None and _header(msg, "Return-Path") in {"<>", ""}:
        return "null envelope sender (Return-Path: <>)"
    for name in _LIST_MANAGER_HEADERS:
        if msg.get(name) is not None:
            return f"mailing-list manager message ({name})"
    for address in (sender, envelope, (msg.get_unixfrom() or "").removeprefix("From ").split(" ")[0]):
        local = address.strip("<> ").split("@", 1)[0]
        if local and _DAEMON_LOCALPARTS.match(local):
            return f"sent by an automated address ({local})"
    if _BOUNCE_SUBJECT.search(subject):
        return f"subject looks machine-generated: {subject[:80]!r}"
    return None
