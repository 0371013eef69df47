"""Scoring incident linking against labels: pairwise precision and recall of "in the same incident".

A pair of tickets is positive when both report the same outage (labels) and found when both belong to
the same incident. Singletons are tickets that report no outage; linking one to an incident is a false
alarm for the customer and the desk alike.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class IncidentScores:
    """How incident linking did on a labelled mailbox."""

    precision: float  # of the pairs put in one incident, the share that report one outage
    recall: float  # of the pairs that report one outage, the share put in one incident
    singletons_linked: int  # tickets that report no outage but were put in an incident
    incidents: int  # incidents found
    incidents_per_outage: dict[str, int]  # how many incidents each outage's reports were spread over

    def as_dict(self) -> dict[str, object]:
        """For a JSON line."""
        return {
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "singletons_linked": self.singletons_linked,
            "incidents": self.incidents,
            "incidents_per_outage": self.incidents_per_outage,
        }


def score_incidents(outage: Mapping[str, str | None], incident: Mapping[str, str | None]) -> IncidentScores:
    """Score the incident each ticket landed in (None: none) against the outage it reports (None: none);
    both keyed by ticket id, over the same tickets."""
    if outage.keys() != incident.keys():
        raise ValueError("the labels and the outcome must cover the same tickets")
    found = true_found = actual = 0
    for a, b in itertools.combinations(sorted(outage), 2):
        same_outage = outage[a] is not None and outage[a] == outage[b]
        same_incident = incident[a] is not None and incident[a] == incident[b]
        actual += same_outage
        found += same_incident
        true_found += same_outage and same_incident
    spread: dict[str, Counter[str]] = {}
    for ticket, label in outage.items():
        if label is not None:
            spread.setdefault(label, Counter())
            if incident[ticket] is not None:
                spread[label][str(incident[ticket])] += 1
    return IncidentScores(
        precision=true_found / found if found else 1.0,
        recall=true_found / actual if actual else 1.0,
        singletons_linked=sum(1 for t, label in outage.items() if label is None and incident[t] is not None),
        incidents=len({i for i in incident.values() if i is not None}),
        incidents_per_outage={label: len(c) for label, c in sorted(spread.items())},
    )
