"""The Ticket: one inbound support e-mail, parsed and cleaned, as the rest of the system sees it."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field


class Attachment(BaseModel):
    """Metadata of one attachment; its content never leaves the inbox."""

    filename: str | None
    content_type: str
    size: int = Field(description="decoded size in bytes")
    refused: str | None = Field(None, description="why it does not go to the issue (a program, too big, ...)")


class Ticket(BaseModel):
    """A support request parsed from one e-mail: the fields planners and tools may reference."""

    id: str = Field(description="stable id derived from the Message-ID")
    message_id: str
    subject: str
    sender: str = Field(description="the sender's address")
    sender_name: str = Field(description="the From display name, empty when absent")
    sender_doubt: str | None = Field(
        default=None,
        description="why the From address is not trusted as the sender's (two addresses, a name that is "
        "another address, the mail server's DMARC verdict): such a ticket is never threaded, answered or "
        "counted as a customer's; None when it is trusted",
    )
    sender_authenticated: bool = Field(
        default=False, description="the operator's mail server proved the From domain (an aligned dmarc=pass)"
    )
    relay: str | None = Field(
        default=None,
        description="the IP address of the host that handed the mail to our mail server (the topmost "
        "Received header); None when it names none",
    )
    body: str = Field(description="the new text of the message: no quoted history, no signature")
    signature: str = Field(default="", description="the signature block trimmed from the body")
    attachments: list[Attachment] = Field(default_factory=list)
    in_reply_to: list[str] = Field(default_factory=list, description="Message-IDs this message replies to")
    cc: list[str] = Field(default_factory=list, description="the other addresses in Cc (at most 20)")
    received_at: datetime
    mailbox: str = Field(default="default", description="the desk's name for the mailbox it arrived in")
    size: int = Field(description="raw message size in bytes")
    thread_of: str | None = Field(default=None, description="id of the ticket this message replies to")
    language: str | None = Field(
        default=None, description="the language it is written in (ISO 639-1), when it can be told"
    )


def ticket_id_for(message_id: str) -> str:
    """Derive the ticket id from a Message-ID, so a redelivered message maps to the same ticket."""
    return "T" + hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:15]
