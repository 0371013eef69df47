"""The incident mailbox (examples/incidents): the team's own mail for measuring incident linking.

Several outages, each reported by different customers in their own words, among unrelated tickets, some
of which share words with an outage. Its labels must cover it exactly, or its scores mean nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from inbox.parse import parse_message
from inbox.ticket import Ticket

ROOT = Path(__file__).resolve().parent.parent / "examples" / "incidents"


def incident_tickets() -> list[tuple[Ticket, str | None]]:
    """Each ticket of the mailbox with the outage it reports (None: it reports none)."""
    labels = json.loads((ROOT / "outages.json").read_text())["outages"]
    parsed = [parse_message(p.read_bytes(), max_bytes=1_000_000) for p in sorted((ROOT / "cur").iterdir())]
    return [(p.ticket, labels.get(f"<{p.ticket.message_id.strip('<>')}>", "?")) for p in parsed]


def test_every_message_is_labelled_and_every_outage_has_several_customers() -> None:
    labels = json.loads((ROOT / "outages.json").read_text())["outages"]
    parsed = [parse_message(p.read_bytes(), max_bytes=1_000_000) for p in sorted((ROOT / "cur").iterdir())]
    tickets = [p.ticket for p in parsed if p.ticket is not None]
    assert len(tickets) == len(parsed) == len(labels) == len(incident_tickets())
    assert {f"<{t.message_id.strip('<>')}>" for t in tickets} == set(labels)
    customers = Counter(
        label for label, sender in {(labels[f"<{t.message_id.strip('<>')}>"], t.sender) for t in tickets}
    )
    outages = {label: n for label, n in customers.items() if label is not None}
    assert len(outages) >= 4 and min(outages.values()) >= 4
    assert customers[None] >= 8  # unrelated tickets, several sharing words with an outage
