"""What memory recalls for a ticket, as the run keeps it and the planner and `triage show` read it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tools.memory_port import Correction


class Neighbour(BaseModel):
    """A past ticket whose text is like this one's."""

    ticket_id: str
    subject: str
    similarity: float = Field(description="cosine similarity of the two texts' embeddings, 0..1")
    category: str | None = None
    issue_key: str | None = None
    seen_at: datetime = Field(description="when this system handled it")
    incident: str | None = Field(default=None, description="the incident it belongs to")
    corrected_category: str | None = Field(default=None, description="the category a person gave it in Jira")
    corrected_urgency: str | None = Field(default=None, description="the urgency a person gave it in Jira")


class Contact(BaseModel):
    """An earlier ticket of the same customer (same sender address)."""

    ticket_id: str
    subject: str
    seen_at: datetime = Field(description="when this system handled it")
    category: str | None = None
    urgency: str | None = None
    issue_key: str | None = None
    incident: str | None = None
    replies: int = Field(default=0, description="the customer's replies on it since")


class Recall(BaseModel):
    """The similar past tickets and the customer's history; `error` says why there is none."""

    similar: list[Neighbour] = Field(default_factory=list)
    history: list[Contact] = Field(default_factory=list)
    corrections: list[Correction] = Field(
        default_factory=list, description="people's categories of like tickets, most alike first"
    )
    error: str | None = Field(default=None, description="set when the run went on without memory")
