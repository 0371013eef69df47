"""Taxonomies are data: the categories file a user edits, and the classifier trained from it."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from tools import embeddings
from tools.classifier import CentroidClassifier, Classifier

ClassifierKind = Literal["tfidf", "embeddings"]
_training = threading.Lock()


class Category(BaseModel):
    """One entry of the taxonomy: a name, what it means, and example requests."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    description: str
    examples: list[str] = Field(min_length=1)


class Taxonomy(BaseModel):
    """The categories file: what a user edits to change what tickets are sorted into."""

    version: int = 1
    categories: list[Category] = Field(min_length=2)


@lru_cache(maxsize=8)
def _parsed(raw: bytes) -> Taxonomy:
    return Taxonomy.model_validate_json(raw)


@lru_cache(maxsize=8)
def _trained(raw: bytes, kind: ClassifierKind) -> Classifier:
    examples = {c.name: [c.description, *c.examples] for c in _parsed(raw).categories}
    if kind == "embeddings":
        return embeddings.EmbeddingClassifier(examples)
    return CentroidClassifier(examples)


def resolve_classifier(choice: str) -> ClassifierKind:
    """auto: embeddings when the model is installed, else tfidf; embeddings without the model: an error."""
    if choice == "auto":
        return "embeddings" if embeddings.available() else "tfidf"
    if choice == "embeddings":
        if not embeddings.available():
            raise ValueError(f"the embeddings classifier is not installed: {embeddings.INSTALL_HINT}")
        return "embeddings"
    if choice == "tfidf":
        return "tfidf"
    raise ValueError(f"unknown classifier {choice!r} (auto, tfidf or embeddings)")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read categories file {path}: {exc}") from exc


def taxonomy_for(path: Path) -> Taxonomy:
    """The taxonomy in a categories file, cached by the file's content."""
    try:
        return _parsed(_read(path))
    except ValueError as exc:
        raise ValueError(f"categories file {path} is invalid: {exc}") from exc


def classifier_for(path: Path, kind: ClassifierKind = "tfidf") -> Classifier:
    """The classifier of this kind trained on a categories file, cached by the file's content."""
    try:
        with _training:  # threads arriving together train once (the embeddings model takes seconds)
            return _trained(_read(path), kind)
    except ValueError as exc:
        raise ValueError(f"categories file {path} is invalid: {exc}") from exc
