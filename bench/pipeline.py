"""`make bench`: N synthetic tickets through the real pipeline (worker processes on Redis).

Prints tickets/s and the p50/p99 time from a ticket's run being enqueued to its being done; the last
line is one JSON object. Each tool sleeps TRIAGE_SIMULATED_TOOL_LATENCY_S to stand in for real I/O.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

from workers.embedded_redis import embedded_redis, redis_answers
from workers.settings import load_settings

SUBJECTS = [
    ("Charged twice this month", "My card was charged twice for the subscription. Account ACC{n:05d}."),
    ("API returns 500", "Every request to the API fails since this morning, production is down."),
    ("Cannot log in", "The password reset email never arrives. No rush.\n\nThanks,\nSam Lee"),
    ("Invoice wrong", "The invoice shows the wrong VAT number, please send a corrected one."),
    ("Export is empty", "The CSV export produces an empty file since the update."),
]


def synthetic_mailbox(folder: Path, count: int) -> Path:
    """A Maildir of `count` distinct, realistic support e-mails."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for n in range(count):
        subject, body = rng.choice(SUBJECTS)
        msg = EmailMessage()
        msg["From"] = f"Customer {n} <customer{n}@example.com>"
        msg["To"] = "support@example.com"
        msg["Subject"] = f"{subject} #{n}"
        msg["Message-ID"] = f"<bench-{n}-{uuid.uuid4().hex}@example.com>"
        msg.set_content(body.format(n=n))
        path = folder / "new" / f"{1_700_000_000 + n}.M{n}P1.bench"
        path.write_bytes(bytes(msg))
        os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))
    return folder


def start_workers(
    count: int, concurrency: int, env: dict[str, str], logs: Path
) -> list[subprocess.Popen[bytes]]:
    """Start `count` worker processes (thread pool) and wait until each says it is ready."""
    triage = str(Path(sys.executable).parent / "triage")
    procs = []
    for i in range(count):
        log = open(logs / f"worker-{i}.log", "wb")  # noqa: SIM115 (lives as long as the worker)
        cmd = [
            triage,
            "worker",
            "--role",
            "all",
            "--pool",
            "threads",
            "-c",
            str(concurrency),
            "--loglevel",
            "INFO",
        ]
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    while not all(b"ready." in (logs / f"worker-{i}.log").read_bytes() for i in range(count)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"workers did not start; see {logs}")
        time.sleep(0.1)
    return procs


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each tool call sleeps")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    args = parser.parse_args()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="triage-bench-")))
        url = load_settings().redis_url
        if not redis_answers(url):
            url = stack.enter_context(embedded_redis())
        namespace = f"bench-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "TRIAGE_REDIS_URL": url,
            "TRIAGE_NAMESPACE": namespace,
            "TRIAGE_SIMULATED_TOOL_LATENCY_S": str(args.latency),
            "TRIAGE_OUTBOX_PATH": str(tmp / "outbox.jsonl"),
        }
        os.environ.update(env)
        from inbox.maildir import MaildirSource
        from tasks.ingest import poll_source
        from workers.runtime import runtime

        store = runtime().store
        stack.callback(store.erase_namespace)
        procs = start_workers(args.workers, args.concurrency, env, tmp)
        for proc in procs:
            stack.callback(proc.wait, 30)
            stack.callback(proc.terminate)

        source = MaildirSource(synthetic_mailbox(tmp / "mailbox", args.tickets))
        print(f"feeding {args.tickets} tickets to {args.workers} worker(s) x {args.concurrency} threads, "
              f"{args.latency}s per tool call, Redis {url}", file=sys.stderr)  # fmt: skip
        started = time.monotonic()
        poll_source(source)
        run_ids = [d.run_id for d in store.deliveries(limit=args.tickets + 10) if d.run_id]
        while store.state_counts()["active"]:  # one cheap count: the harness must not eat the workers' CPU
            time.sleep(0.2)
        wall = time.monotonic() - started
        runs = [r for r in (store.get_run(i) for i in run_ids) if r is not None]

    latencies = sorted((r.finished_at - r.created_at).total_seconds() for r in runs if r.finished_at)
    tasks = sum(1 + sum(s.attempts for s in r.steps.values()) for r in runs)
    result = {
        "tickets": len(runs),
        "done": sum(r.status == "done" for r in runs),
        "tickets_per_s": round(len(runs) / wall, 2),
        "p50_s": round(statistics.median(latencies), 3),
        "p99_s": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3),
        "tasks_per_ticket": round(tasks / len(runs), 2),
        "latency_per_tool_s": args.latency,
        "workers": args.workers,
        "threads_per_worker": args.concurrency,
        "wall_s": round(wall, 2),
    }
    print(
        f"{result['tickets']} tickets in {wall:.1f}s: {result['tickets_per_s']} tickets/s, "
        f"p50 {result['p50_s']}s, p99 {result['p99_s']}s enqueue->done, "
        f"{result['tasks_per_ticket']} tasks/ticket"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
