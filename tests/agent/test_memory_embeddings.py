"""Which embedding tells one outage from another (MiniLM needs its weights: make install)."""

from __future__ import annotations

from itertools import combinations

import pytest

from agent.memory.embedding import Embedder, HashedNgrams, MiniLM
from tests.test_incident_mailbox import incident_tickets
from tools import embeddings

pytestmark = [
    pytest.mark.embeddings,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not embeddings.available(), reason="the MiniLM weights are not installed (make install)"
    ),
]


def pairwise(embedder: Embedder, threshold: float) -> tuple[float, float]:
    """Precision and recall of "similarity >= threshold" as "these two report the same outage"."""
    tickets = incident_tickets()
    vectors = embedder.embed([f"{t.subject}\n{t.body}" for t, _ in tickets])
    same = hits = right = 0
    for (i, (_, a)), (j, (_, b)) in combinations(enumerate(tickets), 2):
        alike = sum(x * y for x, y in zip(vectors[i], vectors[j], strict=True)) >= threshold
        truth = a is not None and a == b
        same, hits, right = same + truth, hits + alike, right + (alike and truth)
    return right / max(1, hits), right / same


def test_minilm_tells_the_outages_of_the_incident_mailbox_apart() -> None:
    precision, recall = pairwise(MiniLM(), threshold=0.52)
    assert precision >= 0.95 and recall >= 0.9


def test_hashed_ngrams_do_it_worse_which_is_why_minilm_is_the_default_where_installed() -> None:
    ngrams = max((pairwise(HashedNgrams(), t / 100) for t in range(10, 60, 2)), key=sum)  # its best
    minilm = pairwise(MiniLM(), threshold=0.52)
    assert sum(ngrams) < sum(minilm)
