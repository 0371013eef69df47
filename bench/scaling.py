"""How the pipeline scales with worker processes (`make bench-fleet`): tickets/s for 1, 2, 4 and 8
workers with simulated I/O (each tool call sleeps; the curve should be linear until the cores or Redis
run out) and at zero latency (the CPU bound), with the Redis commands and the CPU each ticket costs.
The Redis figures give the fleet's ceiling: one Redis core serves so many commands a second, and every
ticket needs so many."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

import redis

from bench.pipeline import run_pipeline
from workers.embedded_redis import embedded_redis, redis_answers
from workers.settings import load_settings


def measure(
    url: str, namespace: str, tmp: Path, workers: int, latency: float, tickets: int, threads: int
) -> dict[str, float]:
    """One run: its tickets/s, CPU a ticket, and Redis commands a ticket (everything the run sent). Every
    run of a process uses one namespace (its runtime is built once) and leaves it empty."""
    args = argparse.Namespace(tickets=tickets, latency=latency, workers=workers, concurrency=threads)
    client = redis.Redis.from_url(url)
    before = int(client.info("stats")["total_commands_processed"])
    result = run_pipeline(args, url, namespace, tmp, half_load=False)
    commands = int(client.info("stats")["total_commands_processed"]) - before
    return {
        "workers": workers,
        "latency_s": latency,
        "tickets_per_s": result["tickets_per_s"],
        "cpu_ms_per_ticket": result["cpu_ms_per_ticket"],
        "redis_commands_per_ticket": round(commands / max(result["tickets"], 1), 1),
    }


def main() -> None:
    """Run the sweep and print a table and the JSON of every row."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--workers", default="1,2,4,8", help="worker process counts to measure")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each tool call sleeps")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    args = parser.parse_args()
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="triage-scaling-")))
        url = load_settings().redis_url
        if not redis_answers(url):
            url = stack.enter_context(embedded_redis())
        namespace = f"scale-{uuid.uuid4().hex[:8]}"
        rows = [
            measure(url, namespace, folder, int(n), latency, args.tickets, args.threads)
            for latency in (args.latency, 0.0)
            for n in args.workers.split(",")
        ]
    print("| workers | latency per tool call | tickets/s | CPU a ticket | Redis commands a ticket |")
    print("|---|---|---|---|---|")
    for row in rows:
        cells = [
            row["workers"],
            f"{row['latency_s']} s",
            row["tickets_per_s"],
            f"{row['cpu_ms_per_ticket']} ms",
        ]
        print("| " + " | ".join(str(c) for c in [*cells, row["redis_commands_per_ticket"]]) + " |")
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
