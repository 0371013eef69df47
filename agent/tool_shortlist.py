"""Which tools a planning prompt shows when the catalog holds more than TRIAGE_PLANNER_MAX_TOOLS (a
company's other systems served over MCP add hundreds): the system's own tools always, since every plan
is made of them, and of the others those whose descriptions are nearest the e-mail under the project's
embedder, up to the limit. A model shown 500 tools by name spends most of its prompt on tools the e-mail
has nothing to do with, and picks worse among them.

bench/tool_recall.py measures how many of the tools a labelled set of e-mails needs the cut still shows.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from agent.memory.embedding import Embedder
from inbox.ticket import Ticket
from tools.base import Tool

_QUERY_CHARS = 2000  # of the e-mail's body: what it is about is said early
SUBJECT_WEIGHT = 0.5  # the subject counts again: it says in a few words what the e-mail is about


def described(tool: Tool[Any, Any]) -> str:
    """What a tool is, as the embedder reads it: its own name in words (without its server's, which
    every tool of a server shares and which drew a server's generic tools to any e-mail), then its
    description."""
    own = tool.name.split("__")[-1]
    return f"{own.replace('_', ' ')}: {tool.description}"


class Shortlist:
    """The tools shown for one e-mail: `always` (in the catalog's order) and the others nearest it, at most
    `max_tools` in all. The others' descriptions are embedded once, on first use."""

    def __init__(
        self,
        catalog: Mapping[str, Tool[Any, Any]],
        always: Collection[str],
        max_tools: int,
        embedder: Embedder,
    ) -> None:
        self.catalog = catalog
        self.always = [name for name in catalog if name in always]
        self.others = [name for name in catalog if name not in always]
        self.room = max(0, max_tools - len(self.always))
        self.embedder = embedder
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None

    def _embedded(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                texts = [described(self.catalog[name]) for name in self.others]
                self._vectors = np.array(self.embedder.embed(texts)).reshape(len(texts), -1)
            return self._vectors

    def ranked(self, subject: str, body: str) -> list[str]:
        """The other tools, nearest an e-mail with this subject and body first."""
        if not self.others:
            return []
        whole, about = self.embedder.embed([f"{subject}\n{body[:_QUERY_CHARS]}", subject])
        tools = self._embedded()
        likeness = tools @ np.asarray(whole) + SUBJECT_WEIGHT * (tools @ np.asarray(about))
        return [self.others[i] for i in np.argsort(-likeness, kind="stable")]

    def for_ticket(self, ticket: Ticket) -> dict[str, Tool[Any, Any]]:
        """The tools a plan for this ticket is offered, in the catalog's order."""
        nearest = set(self.ranked(ticket.subject, ticket.body)[: self.room])
        return {name: tool for name, tool in self.catalog.items() if name in self.always or name in nearest}
