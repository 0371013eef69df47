"""Memory in Chroma: one collection of tickets per namespace, embedded (a folder) or on a server.

`TRIAGE_MEMORY_PATH` is an embedded PersistentClient: one worker process per folder (Chroma's embedded
index is per process; a fleet shares one `chroma run` server through `TRIAGE_MEMORY_URL`). Chroma is
imported and the collection opened on first use, so a process that never touches memory never pays the
second that takes. Telemetry is off.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from agent.memory import entries
from agent.memory.embedding import Embedder
from agent.memory.entries import CORRECTED
from agent.memory.recall import Recall
from agent.memory.symptoms import AREA_SIMILARITY, SymptomReader
from inbox.ticket import Ticket
from tools.errors import RetryableToolError
from tools.memory_port import Correction, Recent, Remembered, Symptoms

HISTORY_LIMIT = 100  # of a sender's earlier tickets read per recall
LIKE_LIMIT = 50  # of the recent tickets most like one, weighed for an incident
DOCUMENT_CHARS = 2_000  # of a ticket's text, kept for people reading the memory; the vector has it all


class MemoryUnavailable(RetryableToolError):
    """Chroma could not be reached or failed; worth another attempt."""


class Memory:
    """Remember tickets, recall similar ones and a customer's history, forget on request or by age."""

    def __init__(
        self,
        embedder: Embedder,
        namespace: str,
        path: Path | None = None,
        url: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if (path is None) == (url is None):
            raise ValueError("memory needs exactly one of a folder (path) or a Chroma server (url)")
        self.embedder, self.path, self.url, self.timeout_s = embedder, path, url, timeout_s
        self.symptoms = SymptomReader(embedder) if embedder.semantic else None
        # One collection per namespace and embedder: vectors of two embedders do not compare (nor have
        # the same dimension), so a change of embedder starts an empty memory instead of a broken one.
        name = f"triage-{namespace}-tickets-{embedder.name}"
        self.name = re.sub(r"[^A-Za-z0-9_-]", "-", name)[:60].strip("-_")
        self._collection: Any = None
        self._others: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        """Where the memory lives, for messages."""
        return f"Chroma at {self.url}" if self.url else f"Chroma folder {self.path}"

    def _tickets(self) -> Any:
        with self._lock:
            if self._collection is None:
                self._collection = self._open(self.name)
            return self._collection

    def collection(self, what: str) -> Any:
        """Another collection beside the tickets, on the same Chroma and embedder (the knowledge base)."""
        with self._lock:
            if what not in self._others:
                name = re.sub(r"[^A-Za-z0-9_-]", "-", self.name.replace("-tickets-", f"-{what}-"))
                self._others[what] = self._open(name[:60].strip("-_"))
            return self._others[what]

    def forget_collection(self, what: str) -> None:
        """Open that collection afresh next time (after a failure: a restarted server)."""
        with self._lock:
            self._others.pop(what, None)

    def _open(self, name: str) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        try:
            if self.url is not None:
                # chromadb's HTTP client waits for ever (httpx, timeout=None), its constructor included:
                # a server that accepts and never answers would hold the task. Ask it first with a
                # deadline, then give the client's session one.
                httpx.get(
                    f"{self.url.rstrip('/')}/api/v2/heartbeat", timeout=self.timeout_s
                ).raise_for_status()
                parts = urlsplit(self.url)
                client = chromadb.HttpClient(
                    host=parts.hostname or "127.0.0.1",
                    port=parts.port or 8000,
                    ssl=parts.scheme == "https",
                    settings=settings,
                )
                cast(Any, client)._server._session.timeout = httpx.Timeout(self.timeout_s)  # chromadb 1.5
            else:
                assert self.path is not None
                self.path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(self.path), settings=settings)
            return client.get_or_create_collection(
                name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedder": self.embedder.name},
            )
        except Exception as exc:
            raise MemoryUnavailable(f"{self.where}: {type(exc).__name__}: {exc}") from exc

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        """Call the collection; any failure of Chroma's is MemoryUnavailable (and the collection is
        opened afresh next time: a restarted server, a recreated folder)."""
        try:
            return getattr(self._tickets(), fn)(**kwargs)
        except MemoryUnavailable:
            raise
        except Exception as exc:
            with self._lock:
                self._collection = None
            raise MemoryUnavailable(f"{self.where}: {what} failed: {type(exc).__name__}: {exc}") from exc

    def remember(self, entry: Remembered) -> None:
        """Store a ticket, replacing what memory had under its id but what was learnt of it since (its
        incident, people's corrections)."""
        text = f"{entry.subject}\n{entry.body}"
        before = self._metadata("remember", [entry.ticket_id]).get(entry.ticket_id, {})
        vectors = self.embedder.embed([text])
        symptoms = self.symptoms.read(vectors[0], text) if self.symptoms is not None else None
        self._call(
            "remember",
            "upsert",
            ids=[entry.ticket_id],
            embeddings=vectors,
            documents=[text[:DOCUMENT_CHARS]],
            metadatas=[entries.stored(entry, before, symptoms)],
        )

    def recall(self, ticket: Ticket, similar: int = 5, history_since: datetime | None = None) -> Recall:
        """The ticket's most similar past tickets (itself excluded) and its sender's earlier tickets."""
        vector = self.embedder.embed([f"{ticket.subject}\n{ticket.body}"])
        found = self._call(
            "recall similar",
            "query",
            query_embeddings=vector,
            n_results=similar + 1,
            include=["metadatas", "distances"],
        )
        rows = zip(found["ids"][0], found["metadatas"][0], found["distances"][0], strict=True)
        neighbours = [entries.neighbour(i, m, d) for i, m, d in rows if i != ticket.id][:similar]
        # People's corrections of like tickets come first for categorizing this one (recall.corrections).
        corrections = [
            Correction(ticket_id=n.ticket_id, category=n.corrected_category, similarity=n.similarity)
            for n in neighbours
            if n.corrected_category and n.similarity >= self.embedder.incident_similarity
        ]
        where: dict[str, Any] = {"sender": ticket.sender.lower()}
        if history_since is not None:
            where = {"$and": [where, {"at": {"$gte": history_since.timestamp()}}]}
        # Bounded: a sender who wrote thousands of times costs one page, not their whole past.
        earlier = self._call("recall history", "get", where=where, include=["metadatas"], limit=HISTORY_LIMIT)
        contacts = sorted(
            (
                entries.contact(i, m)
                for i, m in zip(earlier["ids"], earlier["metadatas"], strict=True)
                if i != ticket.id
            ),
            key=lambda c: c.seen_at,
            reverse=True,
        )
        return Recall(similar=neighbours, history=contacts, corrections=corrections)

    @property
    def incident_similarity(self) -> float:
        """How alike two reports of one outage are at least, for this memory's embedder."""
        return self.embedder.incident_similarity

    @property
    def area_similarity(self) -> float | None:
        """How alike two reports of one outage sharing an area and a malfunction are at least."""
        return AREA_SIMILARITY if self.symptoms is not None else None

    def symptoms_of(self, ticket_id: str) -> Symptoms | None:
        """The symptoms read in a ticket memory holds (None: not held, or no symptoms read)."""
        meta = self._metadata("read symptoms", [ticket_id]).get(ticket_id)
        return entries.symptoms(meta) if meta is not None else None

    def recent_like(
        self, ticket_id: str, text: str, since: datetime, at_least: float, told: Symptoms | None = None
    ) -> list[Recent]:
        """The tickets handled since `since` at least `at_least` alike to `text`, most alike first, and,
        when `told` (the ticket's symptoms) is a malfunction in a known language, the reports of a
        malfunction in other languages since then however unlike their words (MiniLM compares meaning
        within English only; Chroma's `$ne` also returns those whose language was not told, which count
        only by likeness). The ticket itself excluded; at most LIKE_LIMIT of each."""
        vector = self.embedder.embed([text])
        recent = {"at": {"$gte": since.timestamp()}}
        like = self._query_recent("recall recent", ticket_id, vector, recent)
        like = [r for r in like if r.similarity >= at_least]
        if told is not None and told.language and told.malfunction > 0:
            elsewhere = {"$and": [recent, {"malfunction": {"$gt": 0}}, {"language": {"$ne": told.language}}]}
            like += self._query_recent("recall recent elsewhere", ticket_id, vector, elsewhere)
        return like

    def _query_recent(
        self, what: str, ticket_id: str, vector: list[list[float]], where: dict[str, Any]
    ) -> list[Recent]:
        """The tickets `where` selects, most alike to `vector` first, but `ticket_id` (at most LIKE_LIMIT)."""
        found = self._call(
            what,
            "query",
            query_embeddings=vector,
            n_results=LIKE_LIMIT + 1,
            where=where,
            include=["metadatas", "distances", "embeddings"],
        )
        rows = zip(
            found["ids"][0], found["metadatas"][0], found["distances"][0], found["embeddings"][0], strict=True
        )
        return [entries.recent(i, m, d, v) for i, m, d, v in rows if i != ticket_id][:LIKE_LIMIT]

    def note_reply(self, ticket_id: str, reply_id: str, at: datetime) -> bool:
        """Count a customer's reply on the ticket it answers (a retried count of the same reply is not
        counted again); False when memory does not have that ticket."""
        meta = self._metadata("note reply", [ticket_id]).get(ticket_id)
        if meta is None:
            return False
        if meta.get("last_reply_id") != reply_id:
            counted = {
                "replies": int(meta.get("replies", 0)) + 1,
                "last_reply_at": at.timestamp(),
                "last_reply_id": reply_id,
            }
            self._call("note reply", "update", ids=[ticket_id], metadatas=[meta | counted])
        return True

    def mark_incident(self, ticket_ids: list[str], incident_id: str) -> None:
        """Note the incident on these tickets' entries (the ones memory still has)."""
        there = self._metadata("mark incident", ticket_ids)
        if there:
            metas = [meta | {"incident": incident_id} for meta in there.values()]
            self._call("mark incident", "update", ids=list(there), metadatas=metas)

    def corrections_of(self, ticket_id: str) -> dict[str, str] | None:
        """The corrections recorded for a ticket (field -> value), or None when memory does not have it."""
        meta = self._metadata("read corrections", [ticket_id]).get(ticket_id)
        if meta is None:
            return None
        return {k.removeprefix(CORRECTED): str(v) for k, v in meta.items() if k.startswith(CORRECTED) and v}

    def note_corrections(self, ticket_id: str, corrections: Mapping[str, str]) -> None:
        """Record what a person set (field -> value; "" clears: the field is as this system set it)."""
        meta = self._metadata("note corrections", [ticket_id]).get(ticket_id)
        if meta is not None:
            noted = {CORRECTED + k: v for k, v in corrections.items()}
            self._call("note corrections", "update", ids=[ticket_id], metadatas=[meta | noted])

    def _metadata(self, what: str, ticket_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored metadata of those of these tickets that memory has, by ticket id."""
        there = self._call(what, "get", ids=ticket_ids, include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(there["ids"], there["metadatas"], strict=True)}

    def forget(self, ticket_ids: list[str]) -> int:
        """Delete these tickets (an erasure request); how many memory had."""
        return self._delete("forget", ids=ticket_ids) if ticket_ids else 0

    def forget_sender(self, sender: str) -> int:
        """Delete every ticket of a sender (an erasure request); how many there were."""
        return self._delete("forget", where={"sender": sender.lower()})

    def expire(self, before: datetime) -> int:
        """Delete the tickets handled before `before` (the retention); how many went."""
        return self._delete("expire", where={"at": {"$lt": before.timestamp()}})

    def _delete(self, what: str, **selection: Any) -> int:
        there = self._call(what, "get", include=[], **selection)["ids"]
        if there:
            self._call(what, "delete", ids=there)
        return len(there)

    def count(self) -> int:
        """How many tickets memory holds."""
        return int(self._call("count", "count"))
