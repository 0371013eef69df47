"""Whether two reports tell of one outage: alike enough in their words and not about two different
product areas or two features of one, or about one product area, both telling of a malfunction, and
alike at least a little (agent/memory/symptoms.py reads area, feature, malfunction and language). One
outage told in far-apart words ("checkout down", "card payments failing") shares the second; a question
about the same part of the product ("which payment methods do you accept?") tells of no malfunction and
does not, however alike its words. Two reports in different languages are compared by area and
malfunction alone: the embedder's likeness means nothing across languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.memory_port import Recent, Symptoms

# Below this a report reads as a question, a request or an idea, not a malfunction: it joins no outage
# even worded like one ("Feature request: CSV export for the audit log" beside "CSV export is empty").
NOT_A_REPORT = -0.05


@dataclass(frozen=True)
class Likeness:
    """The two bars a pair of reports may pass: `words` alone, or `area` with a shared area and a
    malfunction in both (None: the embedder reads no symptoms, only words count)."""

    words: float
    area: float | None = None

    @property
    def floor(self) -> float:
        """The least similarity either bar lets through (what to ask memory for)."""
        return min(self.words, self.area) if self.area is not None else self.words

    def alike(self, similarity: float, a: Symptoms | None, b: Symptoms | None) -> bool:
        """Whether two reports this alike, with these symptoms, tell of one outage."""
        if self.area is None or a is None or b is None:
            return similarity >= self.words
        if similarity >= self.words and not _placed_apart(a, b):
            return a.malfunction > NOT_A_REPORT and b.malfunction > NOT_A_REPORT
        if not (_one_part(a, b) and a.malfunction > 0 and b.malfunction > 0):
            return False
        return similarity >= self.area or _told_apart(a, b)

    def corroborated(self, like: list[Recent]) -> list[Recent]:
        """The like tickets that are alike to another like ticket too (in their order): one look-alike
        is not enough."""
        return [
            r
            for r in like
            if any(self.alike(r.similarity_to(o), r.symptoms, o.symptoms) for o in like if o is not r)
        ]


def _placed_apart(a: Symptoms, b: Symptoms) -> bool:
    """Whether the two reports are about two known, different parts of the product, or two features of
    one ("SSO rejects us" and "no SMS codes"): two outages however alike their words ("Card payments
    failing at checkout" and "Payout missing" are 0.56 alike). It costs some reports of one outage: 19 of
    the 509 such pairs in the twenty-two incident mailboxes are placed apart, by an area misread ("Lookup
    times out with 504" is loading; these are misses) or one sign-in outage told as single sign-on by some
    customers and as codes by others (it still joins, through the reports that name no feature)."""
    if a.area is None or b.area is None:
        return False
    return a.area != b.area or _features_differ(a, b)


def _one_part(a: Symptoms, b: Symptoms) -> bool:
    """Whether the two reports are about one known part of the product and name no two features of it."""
    return a.area is not None and a.area == b.area and not _features_differ(a, b)


def _features_differ(a: Symptoms, b: Symptoms) -> bool:
    """Whether each report names a feature of its area, and not the same one."""
    return a.feature is not None and b.feature is not None and a.feature != b.feature


def _told_apart(a: Symptoms, b: Symptoms) -> bool:
    """Whether the two reports are told in two known, different languages."""
    return a.language is not None and b.language is not None and a.language != b.language
