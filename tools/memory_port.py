"""What the tools know of long-term memory: the entry they store, what they ask of it, and the port.

agent/memory implements the port; the tools never import it (tools/ sits below agent/).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field


class TicketFacts(BaseModel):
    """The ticket and what the earlier steps found out about it."""

    ticket_id: str
    subject: str
    body: str
    sender: str
    received_at: datetime  # as the mail's Date header says (the sender's clock: shown, never trusted)
    # Closed choices a person's edit of a held run may name (agent/autonomy.py: Edits).
    category: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,40}$", json_schema_extra={"literal": "person"}
    )
    urgency: Literal["low", "medium", "high"] | None = Field(None, json_schema_extra={"literal": "person"})
    customer_name: str | None = None
    account_id: str | None = None
    issue_key: str | None = None


class Remembered(TicketFacts):
    """One ticket as memory keeps it (keyed by ticket id: storing it again replaces it)."""

    seen_at: datetime  # when this system handled it (our clock: history windows and retention use it)


class Symptoms(BaseModel):
    """What a report tells beyond its words (agent/memory/symptoms.py): the product area it is nearest to
    (None: not told), how much more it tells of a failure than of a question or a request (above 0: a
    malfunction), the language it is written in and the feature of its area it names (None: not told)."""

    area: str | None
    malfunction: float
    language: str | None = None
    feature: str | None = None


class Recent(BaseModel):
    """A ticket handled lately whose text is like another's: what incident linking weighs."""

    ticket_id: str
    sender: str
    similarity: float  # cosine similarity of the two texts' embeddings, 0..1
    seen_at: datetime
    issue_key: str | None = None
    vector: list[float] = Field(default_factory=list, repr=False, description="its text's embedding")
    symptoms: Symptoms | None = None

    def similarity_to(self, other: Recent) -> float:
        """Cosine similarity of the two tickets' texts (embeddings are unit vectors)."""
        return sum(a * b for a, b in zip(self.vector, other.vector, strict=True))


class Correction(BaseModel):
    """A person's correction of a ticket like this one: the category they gave its issue in Jira."""

    ticket_id: str
    category: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    similarity: float  # of that ticket's text to this one's


class TicketMemory(Protocol):
    """What the tools use of long-term memory (agent/memory implements it). Every method raises
    RetryableToolError when memory cannot be reached."""

    @property
    def incident_similarity(self) -> float:
        """How alike two reports of one outage are at least, for this memory's embedder."""
        ...

    @property
    def area_similarity(self) -> float | None:
        """How alike two reports of one outage are at least when they share a product area and both tell
        of a malfunction; None when this memory's embedder reads no symptoms."""
        ...

    def remember(self, entry: Remembered) -> None:
        """Store or replace the entry."""
        ...

    def symptoms_of(self, ticket_id: str) -> Symptoms | None:
        """The symptoms memory read in a ticket it holds (None: not held, or no symptoms read)."""
        ...

    def recent_like(
        self, ticket_id: str, text: str, since: datetime, at_least: float, told: Symptoms | None = None
    ) -> list[Recent]:
        """The tickets handled since `since` whose text is at least `at_least` alike, most alike first,
        and, when `told` (the ticket's symptoms) is a malfunction in a known language, reports of a
        malfunction since then in other languages (the ticket itself excluded; at most a page of each)."""
        ...

    def note_reply(self, ticket_id: str, reply_id: str, at: datetime) -> bool:
        """Count a customer's reply on the ticket it answers (once per reply); False when memory does not
        have that ticket."""
        ...

    def mark_incident(self, ticket_ids: list[str], incident_id: str) -> None:
        """Note on these tickets the incident they belong to (recall shows it)."""
        ...
