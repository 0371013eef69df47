"""Text -> vector: MiniLM sentence vectors, or hashed word, word-pair and character n-grams (no model).

The vector of a text is the signed, hashed count (sublinear: 1 + log) of its lowercased words, the pairs
of neighbouring words and the 4-character pieces of each word, normalised to length 1, so that the
cosine of two vectors measures shared wording and survives typos and inflections ("export"/"exports").
Linear in the text, which is cut to MAX_CHARS first: a 10 MB body costs what 8,000 characters cost.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter
from typing import Protocol

from tools import embeddings

MAX_CHARS = 8_000
_WORD = re.compile(r"[^\W_]{2,}")  # letters and digits of any script, two or more
# Words every support mail has: they would make unrelated tickets look alike.
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "with",
        "this",
        "that",
        "have",
        "has",
        "are",
        "was",
        "were",
        "not",
        "but",
        "our",
        "can",
        "could",
        "would",
        "please",
        "thanks",
        "thank",
        "hello",
        "dear",
        "regards",
        "from",
        "any",
        "all",
        "its",
        "been",
        "will",
        "just",
        "get",
        "got",
        "into",
        "out",
        "about",
        "what",
        "when",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "also",
        "some",
        "since",
    ]
)


class Embedder(Protocol):
    """Turns texts into vectors of one dimension; `name` is stored with the memory it built."""

    name: str
    dimension: int
    # How alike two reports of one outage are at least (calibrated on examples/incidents: README, Memory).
    incident_similarity: float
    # Whether its vectors carry meaning enough to read symptoms from (agent/memory/symptoms.py).
    semantic: bool

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text."""
        ...


class MiniLM:
    """Sentence embeddings of all-MiniLM-L6-v2 on NumPy (as the categorizer uses): 384 dimensions, tens
    of ms of CPU a ticket, meaning over wording."""

    name = "all-MiniLM-L6-v2"
    dimension = 384
    incident_similarity = 0.56
    semantic = True

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text."""
        return embeddings.encode(texts)


class HashedNgrams:
    """The default embedder: hashed n-grams of `dimension` (no model, no download, ~0.1 ms a ticket)."""

    def __init__(self, dimension: int = 1024) -> None:
        self.dimension = dimension
        self.name = f"hashed-ngrams-{dimension}"
        self.incident_similarity = 0.28
        self.semantic = False

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text (all zeros for a text without words)."""
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        words = [w for w in _WORD.findall(text[:MAX_CHARS].lower()) if w not in _STOP]
        features: Counter[str] = Counter(words)
        features.update(f"{a} {b}" for a, b in itertools.pairwise(words))
        for word in words:
            padded = f"<{word}>"
            features.update(f"#{padded[i : i + 4]}" for i in range(max(1, len(padded) - 3)))
        vector = [0.0] * self.dimension
        for feature, count in features.items():
            h = zlib.crc32(feature.encode())
            vector[h % self.dimension] += (1.0 + math.log(count)) * (1.0 if h & 0x80000000 else -1.0)
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector] if norm else vector
