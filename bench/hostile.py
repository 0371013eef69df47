"""`make bench-hostile`: what each crafted shape of mail (tests/hostile/shapes.py) costs to parse, to
extract from and to categorize, at the size it was crafted and scaled up, best of --rounds.

Speed is measured here, not asserted in the tests: the tests hold each shape to its outcome and guard
against a hang; this table shows how far the fixed code is from one (milliseconds, growing linearly).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from tempfile import TemporaryDirectory

import redis

from agent.store import RunStore
from inbox.parse import Unparseable, parse_message
from tests.hostile.shapes import SHAPES
from tools.base import ToolContext
from tools.categorize import categorize_ticket
from tools.extract import extract_entities
from workers.settings import load_settings


def _best(rounds: int, work: Callable[[], object]) -> float:
    """The fastest of `rounds` runs of `work`, in seconds: the machine's noise only ever adds time."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _triage(raw: bytes, ctx: ToolContext) -> str:
    """Parse, extract and categorize one message as a worker would; the outcome's name."""
    try:
        ticket = parse_message(raw, max_bytes=len(raw) + 1).ticket
    except Unparseable:
        return "quarantined"
    fields = {"subject": ticket.subject, "body": ticket.body}
    extract_entities.run({**fields, "signature": ticket.signature, "sender_name": ticket.sender_name}, ctx)
    categorize_ticket.run(fields, ctx)
    return "ticket"


def main() -> None:
    """Print one line per shape: its size, its outcome and the best time of the whole triage."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    store = RunStore(redis.Redis.from_url(args.redis_url), f"bench-{uuid.uuid4().hex[:8]}", retention_s=60)
    try:
        with TemporaryDirectory() as folder:
            config = load_settings(outbox_path=Path(folder) / "outbox.jsonl").tool_config()
            ctx = ToolContext(run_id="B", ticket_id="B", step_id="bench", ledger=store.ledger, config=config)
            print(f"{'shape':26} {'bytes':>10} {'outcome':>12} {'best s':>8}")
            for shape in SHAPES:
                raw = shape.raw()
                outcome = _triage(raw, ctx)
                took = _best(args.rounds, partial(_triage, raw, ctx))
                print(f"{shape.name:26} {len(raw):>10,} {outcome:>12} {took:>8.3f}")
    finally:
        store.erase_namespace()


if __name__ == "__main__":
    main()
