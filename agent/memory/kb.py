"""The knowledge base: a folder of Markdown articles (TRIAGE_KB_PATH) indexed in the memory's Chroma,
kept in step with the folder (an article added, changed or removed is indexed again before the next
search that sees the change). Each article's title is its first `# ` heading; its answer the section
under `## Answer` (the whole text when there is none)."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

from agent.memory.chroma import Memory, MemoryUnavailable
from tools.kb_port import Article

MAX_ARTICLES = 1000  # articles indexed at most (the rest are left out, in name order)
MAX_ARTICLE_BYTES = 200_000  # of one article, read
_ANSWER = re.compile(r"^##\s+answer\s*$(.*?)(?=^##\s|\Z)", re.IGNORECASE | re.MULTILINE | re.DOTALL)


def parse_article(text: str, fallback_title: str) -> tuple[str, str]:
    """(title, answer) of an article's Markdown."""
    title = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), fallback_title)
    found = _ANSWER.search(text)
    answer = (found.group(1) if found else re.sub(r"^# .*$", "", text, count=1, flags=re.M)).strip()
    return title, answer


class KnowledgeBase:
    """Search the articles of a folder, indexing what changed first, in a Chroma collection of its own
    (`kb` for TRIAGE_KB_PATH's, `kb-<mailbox>` for a mailbox's)."""

    def __init__(self, memory: Memory, folder: Path, collection: str = "kb") -> None:
        self.memory, self.folder, self.name = memory, folder, collection
        self._seen: tuple[tuple[str, float, int], ...] | None = None
        self._lock = threading.Lock()

    @property
    def relevant(self) -> float:
        """As alike as two reports of one outage (the embedder's calibrated value)."""
        return self.memory.incident_similarity

    def _files(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("*.md") if p.is_file())[:MAX_ARTICLES]

    def sync(self) -> int:
        """Index the articles that changed since the last look (by name, time and size); how many."""
        files = self._files()
        seen = tuple((p.name, p.stat().st_mtime, p.stat().st_size) for p in files)
        with self._lock:
            if seen == self._seen:
                return 0
            articles = self._call("read", "get", include=["metadatas"])
            known = {i: m.get("sha256") for i, m in zip(articles["ids"], articles["metadatas"], strict=True)}
            changed = 0
            for path in files:
                raw = path.read_bytes()[:MAX_ARTICLE_BYTES]
                digest = hashlib.sha256(raw).hexdigest()
                if known.get(path.name) == digest:
                    continue
                text = raw.decode("utf-8", "replace")
                title, answer = parse_article(text, path.stem)
                meta = {"title": title[:200], "sha256": digest}
                vector = self.memory.embedder.embed([text])
                self._call(
                    "index",
                    "upsert",
                    ids=[path.name],
                    embeddings=vector,
                    documents=[answer],
                    metadatas=[meta],
                )
                changed += 1
            gone = sorted(set(known) - {p.name for p in files})
            if gone:
                self._call("forget", "delete", ids=gone)
            self._seen = seen
            return changed + len(gone)

    def search(self, text: str, limit: int) -> list[Article]:
        """The articles most like the text, most alike first."""
        self.sync()
        found = self._call(
            "search",
            "query",
            query_embeddings=self.memory.embedder.embed([text]),
            n_results=limit,
            include=["metadatas", "documents", "distances"],
        )
        return [
            Article(
                path=str(self.folder / i),
                title=m.get("title", i),
                answer=doc or "",
                similarity=round(max(0.0, 1.0 - d), 4),
            )
            for i, m, doc, d in zip(
                found["ids"][0],
                found["metadatas"][0],
                found["documents"][0],
                found["distances"][0],
                strict=True,
            )
        ]

    def _call(self, what: str, fn: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.memory.collection(self.name), fn)(**kwargs)
        except MemoryUnavailable:
            raise
        except Exception as exc:
            self.memory.forget_collection(self.name)
            raise MemoryUnavailable(f"knowledge base: {what} failed: {type(exc).__name__}: {exc}") from exc
