"""What the tools know of long-term memory: the entry they store and the port they store it through.

agent/memory implements the port; the tools never import it (tools/ sits below agent/).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel


class TicketFacts(BaseModel):
    """The ticket and what the earlier steps found out about it."""

    ticket_id: str
    subject: str
    body: str
    sender: str
    received_at: datetime  # as the mail's Date header says (the sender's clock: shown, never trusted)
    category: str | None = None
    urgency: str | None = None
    customer_name: str | None = None
    account_id: str | None = None
    issue_key: str | None = None


class Remembered(TicketFacts):
    """One ticket as memory keeps it (keyed by ticket id: storing it again replaces it)."""

    seen_at: datetime  # when this system handled it (our clock: history windows and retention use it)


class MemoryWriter(Protocol):
    """Where remember_ticket stores a ticket (agent/memory implements it)."""

    def remember(self, entry: Remembered) -> None:
        """Store or replace the entry; raise RetryableToolError when memory cannot be reached."""
        ...
