"""Whether two reports tell of one outage: alike enough in their words, or about one product area, both
telling of a malfunction, and alike at least a little (agent/memory/symptoms.py reads area and
malfunction). One outage told in far-apart words ("checkout down", "card payments failing") shares the
second; a question about the same part of the product ("which payment methods do you accept?") tells of
no malfunction and does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.memory_port import Recent, Symptoms


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
        if similarity >= self.words:
            return True
        if self.area is None or a is None or b is None or similarity < self.area:
            return False
        return a.area == b.area and a.malfunction > 0 and b.malfunction > 0

    def corroborated(self, like: list[Recent]) -> list[Recent]:
        """The like tickets that are alike to another like ticket too (in their order): one look-alike
        is not enough."""
        return [
            r
            for r in like
            if any(self.alike(r.similarity_to(o), r.symptoms, o.symptoms) for o in like if o is not r)
        ]
