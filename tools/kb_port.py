"""What the tools know of the knowledge base: an article found for a ticket, and the port to search it.
agent/memory/kb.py implements it on the memory's Chroma."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel


class Article(BaseModel):
    """One knowledge-base article as found for a text: where it is, its title, the answer it gives."""

    path: str
    title: str
    answer: str
    similarity: float


class KnowledgeSearch(Protocol):
    """The knowledge base, indexed in memory and kept in step with its folder."""

    @property
    def relevant(self) -> float:
        """How alike an article and a ticket are at least for the article to answer it."""
        ...

    def search(self, text: str, limit: int) -> list[Article]:
        """The articles most like the text, most alike first (re-indexing changed files first)."""
        ...
