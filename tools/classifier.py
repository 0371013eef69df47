"""An offline text classifier trained from a few examples per category.

TF-IDF over stemmed words, word bigrams and character 3-5-grams (which tie "cancelling" to "cancel"
and survive typos); a text's score for a category blends its cosine to the category's centroid with
its cosine to the category's nearest example. No third-party dependency, trains in milliseconds at
start-up, and gives a confidence to abstain on. On the Bitext support requests with 10 examples per
category it beats TF-IDF + logistic regression on the same splits (figures in the README).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "can",
        "could",
        "would",
        "should",
        "will",
        "just",
        "so",
        "as",
        "not",
        "no",
        "please",
        "hi",
        "hello",
        "dear",
        "thanks",
        "thank",
        "regards",
        "team",
        "support",
    ]
)


def _stem(word: str) -> str:
    """A light suffix stripper: enough to join 'charged', 'charges' and 'charging'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def features(text: str) -> Counter[str]:
    """Stemmed word unigrams and bigrams (no stop words) and character 3-5-grams of each word."""
    tokens = _TOKEN.findall(text.lower())
    words = [_stem(w) for w in tokens if w not in _STOPWORDS]
    grams: Counter[str] = Counter(words)
    grams.update(f"{a} {b}" for a, b in pairwise(words))
    for token in tokens:
        padded = f" {token} "
        for n in (3, 4, 5):
            grams.update("#" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


def _normalise(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


@dataclass(frozen=True)
class Prediction:
    """The best category, its confidence in [0, 1] and every category's probability."""

    label: str
    confidence: float
    probabilities: dict[str, float]


class Classifier(Protocol):
    """What categorize_ticket needs of a trained classifier (TF-IDF here, or tools/embeddings.py)."""

    name: str
    labels: list[str]

    def predict(self, text: str) -> Prediction:
        """The most probable category of a text, with every category's probability."""
        ...


NEAREST_WEIGHT = 0.3  # share of the nearest example in a category's score


class CentroidClassifier:
    """TF-IDF vectors; a category's score blends its centroid's and its nearest example's cosine."""

    name = "tfidf"

    def __init__(self, examples: dict[str, list[str]], temperature: float = 12.0) -> None:
        if len(examples) < 2 or any(not texts for texts in examples.values()):
            raise ValueError("a classifier needs at least two categories, each with an example")
        self.labels = sorted(examples)
        self.temperature = temperature
        docs = [(label, features(text)) for label, texts in examples.items() for text in texts]
        doc_freq: Counter[str] = Counter(term for _, grams in docs for term in grams)
        self._idf = {term: math.log((1 + len(docs)) / (1 + df)) + 1 for term, df in doc_freq.items()}
        sums: dict[str, defaultdict[str, float]] = {label: defaultdict(float) for label in self.labels}
        for label, grams in docs:
            for term, weight in self._vector(grams).items():
                sums[label][term] += weight
        self._centroids = {label: _normalise(dict(total)) for label, total in sums.items()}
        # An inverted index over the examples: a text's cosine to every example costs only the terms
        # they share, so the nearest example stays cheap with thousands of them.
        self._example_labels = [label for label, _ in docs]
        self._postings: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, (_, grams) in enumerate(docs):
            for term, weight in self._vector(grams).items():
                self._postings[term].append((i, weight))

    def _vector(self, grams: Counter[str]) -> dict[str, float]:
        return _normalise({t: (1 + math.log(n)) * self._idf[t] for t, n in grams.items() if t in self._idf})

    def predict(self, text: str) -> Prediction:
        """Classify a text; an empty or unknown vocabulary gives an even, low-confidence answer."""
        vector = self._vector(features(text))

        def cosine(other: dict[str, float]) -> float:
            return sum(w * other.get(term, 0.0) for term, w in vector.items())

        scores = {label: cosine(centroid) for label, centroid in self._centroids.items()}
        to_example: defaultdict[int, float] = defaultdict(float)
        for term, w in vector.items():
            for i, weight in self._postings.get(term, ()):
                to_example[i] += w * weight
        nearest: dict[str, float] = dict.fromkeys(scores, 0.0)
        for i, similarity in to_example.items():
            label = self._example_labels[i]
            nearest[label] = max(nearest[label], similarity)
        w = NEAREST_WEIGHT
        scores = {label: (1 - w) * scores[label] + w * nearest[label] for label in scores}
        top = max(scores.values())
        exps = {label: math.exp(self.temperature * (s - top)) for label, s in scores.items()}
        total = sum(exps.values())
        probabilities = {label: e / total for label, e in exps.items()}
        best = max(self.labels, key=lambda label: (probabilities[label], label == self.labels[0]))
        return Prediction(label=best, confidence=probabilities[best], probabilities=probabilities)
