"""How a ticket is kept in Chroma's metadata, and read back as what memory answers with: a neighbour,
an earlier contact of the same customer, a recent like ticket (agent/memory/chroma.py stores and
queries; this module only converts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent.memory.recall import Contact, Neighbour
from tools.memory_port import Recent, Remembered, Symptoms

CORRECTED = "corrected_"  # metadata: what a person changed in Jira ("corrected_category": "billing")
# Metadata learnt after the ticket was remembered, kept when it is remembered again.
LEARNT = ("incident", "replies", "last_reply_at", "last_reply_id")


def stored(entry: Remembered, before: Mapping[str, Any], symptoms: Symptoms | None) -> dict[str, Any]:
    """The metadata a ticket is kept with: what was learnt of it since it was first stored (`before`:
    its incident, replies, people's corrections), its facts, and the symptoms read in it."""
    meta = {k: v for k, v in before.items() if k in LEARNT or k.startswith(CORRECTED)}
    meta |= {k: v for k, v in entry.model_dump().items() if v is not None and k not in ("subject", "body")}
    meta.update(
        subject=entry.subject[:200],
        sender=entry.sender.lower(),
        at=entry.seen_at.timestamp(),
        received_at=entry.received_at.isoformat(),
        seen_at=entry.seen_at.isoformat(),
    )
    # An area or a language not told is left out: Chroma's metadata holds no None.
    return meta | (symptoms.model_dump(exclude_none=True) if symptoms is not None else {})


def similarity_of(distance: float) -> float:
    """Chroma's cosine distance as a similarity, 0..1."""
    return round(max(0.0, 1.0 - distance), 4)


def neighbour(ticket_id: str, meta: Mapping[str, Any], distance: float) -> Neighbour:
    """A past ticket like the one recalled for."""
    return Neighbour(
        ticket_id=ticket_id,
        subject=meta.get("subject", ""),
        similarity=similarity_of(distance),
        category=meta.get("category"),
        issue_key=meta.get("issue_key"),
        seen_at=seen_at(meta),
        incident=meta.get("incident"),
        corrected_category=meta.get(CORRECTED + "category") or None,
        corrected_urgency=meta.get(CORRECTED + "urgency") or None,
    )


def contact(ticket_id: str, meta: Mapping[str, Any]) -> Contact:
    """An earlier ticket of the same customer."""
    return Contact(
        ticket_id=ticket_id,
        subject=meta.get("subject", ""),
        seen_at=seen_at(meta),
        category=meta.get("category"),
        urgency=meta.get("urgency"),
        issue_key=meta.get("issue_key"),
        incident=meta.get("incident"),
        replies=int(meta.get("replies", 0)),
    )


def recent(ticket_id: str, meta: Mapping[str, Any], distance: float, vector: Any) -> Recent:
    """A ticket handled lately, as incident linking weighs it."""
    return Recent(
        ticket_id=ticket_id,
        sender=meta.get("sender", ""),
        similarity=similarity_of(distance),
        seen_at=seen_at(meta),
        issue_key=meta.get("issue_key"),
        vector=[float(x) for x in vector],
        symptoms=symptoms(meta),
    )


def seen_at(meta: Mapping[str, Any]) -> datetime:
    """When this system handled the ticket."""
    return datetime.fromtimestamp(float(meta.get("at", 0.0)), UTC)


def symptoms(meta: Mapping[str, Any]) -> Symptoms | None:
    """The symptoms stored with a ticket, if its embedder read any."""
    if "malfunction" not in meta:
        return None
    return Symptoms(
        area=meta.get("area"),
        malfunction=float(meta["malfunction"]),
        language=meta.get("language"),
        feature=meta.get("feature"),
    )
