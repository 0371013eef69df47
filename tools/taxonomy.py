"""Taxonomies are data: the categories file a user edits, and the classifier trained from it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from tools.classifier import CentroidClassifier


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
def _trained(raw: bytes) -> CentroidClassifier:
    taxonomy = _parsed(raw)
    return CentroidClassifier({c.name: [c.description, *c.examples] for c in taxonomy.categories})


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


def classifier_for(path: Path) -> CentroidClassifier:
    """The classifier trained on a categories file, cached by the file's content."""
    try:
        return _trained(_read(path))
    except ValueError as exc:
        raise ValueError(f"categories file {path} is invalid: {exc}") from exc
