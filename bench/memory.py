"""Memory's cost: how long remembering and recalling a ticket take, and how big memory grows.

    python -m bench.memory --tickets 10000 --embedder hashed    (make bench-memory)

Fills a fresh embedded Chroma folder with N tickets (the bitext customer-support corpus beside the
project when it is there, else variations of the sample and incident mailboxes), then recalls 200 of
them as the plan task does (similar tickets and the sender's history). The last line is one JSON object:
remember and recall latency (p50, p95, ms), the folder's size and the size per 10,000 tickets.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.memory.chroma import Memory
from agent.memory.embedding import Embedder, HashedNgrams, MiniLM
from inbox.parse import parse_message
from inbox.ticket import Ticket
from tools.memory_port import Remembered

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "bitext-customer-support" / "dev.csv"


def texts(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(subject, body) pairs: the corpus's customer messages, or the example mailboxes varied."""
    if CORPUS.is_file():
        with CORPUS.open(encoding="utf-8") as handle:
            pool = [(row["instruction"][:60], row["instruction"]) for row in csv.DictReader(handle)]
    else:
        mails = [*sorted((ROOT / "examples" / "incidents" / "cur").iterdir()), *sorted(
            p for p in (ROOT / "examples" / "mailbox").glob("*/*") if p.is_file())]  # fmt: skip
        parsed = [parse_message(p.read_bytes(), max_bytes=1_000_000).ticket for p in mails]
        pool = [(t.subject, t.body) for t in parsed if t is not None]
    return [(s, f"{b} (ref {rng.randrange(10**6)})") for s, b in (rng.choice(pool) for _ in range(count))]


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def measure(tickets: int, embedder: Embedder, batch: int, seed: int) -> dict[str, object]:
    """Fill a fresh memory with `tickets` tickets, then time recalls; the figures."""
    rng = random.Random(seed)
    senders = [f"customer{i}@example.com" for i in range(max(1, tickets // 4))]
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        memory = Memory(embedder, f"bench-{uuid.uuid4().hex[:6]}", path=Path(tmp))
        remember_ms: list[float] = []
        entries = []
        for i, (subject, body) in enumerate(texts(tickets, rng)):
            seen = now - timedelta(minutes=tickets - i)
            entry = Remembered(ticket_id=f"T{i}", subject=subject, body=body, sender=rng.choice(senders),
                               received_at=seen, seen_at=seen, category="technical", urgency="low",
                               issue_key=f"SUP-{i}")  # fmt: skip
            entries.append(entry)
        for start in range(0, len(entries), batch):
            for entry in entries[start : start + batch]:
                began = time.perf_counter()
                memory.remember(entry)
                remember_ms.append((time.perf_counter() - began) * 1000)
            print(f"remembered {min(start + batch, len(entries))}/{len(entries)}", file=sys.stderr)
        recall_ms: list[float] = []
        for entry in rng.sample(entries, min(200, len(entries))):
            ticket = Ticket(id=f"Q{entry.ticket_id}", message_id=f"{entry.ticket_id}@bench",
                            subject=entry.subject, sender=entry.sender, sender_name="", body=entry.body,
                            received_at=now, size=1)  # fmt: skip
            began = time.perf_counter()
            memory.recall(ticket, similar=5, history_since=now - timedelta(days=30))
            recall_ms.append((time.perf_counter() - began) * 1000)
        size = folder_size(Path(tmp))
        assert memory.count() == tickets
    return {
        "tickets": tickets,
        "embedder": embedder.name,
        "corpus": "bitext" if CORPUS.is_file() else "examples",
        "remember_ms_p50": round(statistics.median(remember_ms), 2),
        "remember_ms_p95": round(percentile(remember_ms, 0.95), 2),
        "recall_ms_p50": round(statistics.median(recall_ms), 2),
        "recall_ms_p95": round(percentile(recall_ms, 0.95), 2),
        "memory_mb": round(size / 1e6, 1),
        "mb_per_10k_tickets": round(size / 1e6 * 10_000 / tickets, 1),
    }


def main() -> None:
    """Parse the arguments, measure, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--embedder", choices=["hashed", "minilm"], default="hashed")
    parser.add_argument("--batch", type=int, default=1000, help="progress is reported per batch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    embedder: Embedder = MiniLM() if args.embedder == "minilm" else HashedNgrams()
    print(json.dumps(measure(args.tickets, embedder, args.batch, args.seed)))


if __name__ == "__main__":
    main()
