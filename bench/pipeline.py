"""`make bench`: N synthetic tickets through the real pipeline (worker processes on Redis), and the
same through bare Celery chains of four tasks (bench/raw_celery.py) on the same Redis in the same run.

Throughput: N tickets are queued first (the pipeline's ingested by this harness), then the workers
start and drain them; tickets/s counts the tickets finished once every worker said "ready". The two take
turns for --rounds rounds and the medians are printed: a shared machine's speed drifts by more than the
difference being measured, and a ratio is only meaningful between runs that saw the same machine.
Latency (last round): N/4 more tickets are fed at half the pipeline's throughput, and the p99
enqueue->done time of each is printed; the difference is what the pipeline adds to Celery under load.
The last line is one JSON object with `ratio_to_raw_celery`. Each tool sleeps --latency seconds to stand
in for real I/O.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import uuid
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path

from bench import raw_celery
from bench.fleet import cpu_seconds, paced, percentile, start_workers, steady_rate, stop, wait_until
from workers.embedded_redis import embedded_redis, redis_answers
from workers.settings import load_settings

SUBJECTS = [
    ("Charged twice this month", "My card was charged twice for the subscription. Account ACC{n:05d}."),
    ("API returns 500", "Every request to the API fails since this morning, production is down."),
    ("Cannot log in", "The password reset email never arrives. No rush.\n\nThanks,\nSam Lee"),
    ("Invoice wrong", "The invoice shows the wrong VAT number, please send a corrected one."),
    ("Export is empty", "The CSV export produces an empty file since the update."),
]


def synthetic_mailbox(folder: Path, count: int = 0) -> Path:
    """A Maildir of `count` distinct, realistic support e-mails."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        deliver(folder, n)
    return folder


def deliver(folder: Path, n: int) -> None:
    """Put support e-mail number n into a Maildir."""
    subject, body = random.Random(n).choice(SUBJECTS)
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <customer{n}@example.com>"
    msg["To"] = "support@example.com"
    msg["Subject"] = f"{subject} #{n}"
    msg["Message-ID"] = f"<bench-{n}-{uuid.uuid4().hex}@example.com>"
    msg.set_content(body.format(n=n))
    path = folder / "new" / f"{1_700_000_000 + n}.M{n}P1.bench"
    path.write_bytes(bytes(msg))
    os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))


def run_pipeline(
    args: argparse.Namespace, url: str, namespace: str, tmp: Path, half_load: bool
) -> dict[str, float]:
    """N tickets through `triage worker`s: tickets/s, tasks per ticket, and the p99 at half load (when
    asked for: NaN otherwise). Every round uses the same namespace (this process's runtime is built
    once) and leaves it empty."""
    half = max(50, args.tickets // 4) if half_load else 0
    env = {
        **os.environ,
        "TRIAGE_REDIS_URL": url,
        "TRIAGE_NAMESPACE": namespace,
        "TRIAGE_SIMULATED_TOOL_LATENCY_S": str(args.latency),
        "TRIAGE_OUTBOX_PATH": str(tmp / "outbox.jsonl"),
        "TRIAGE_MAX_PLAN_BACKLOG": str(args.tickets + half + 100),  # the harness queues all at once
        # The same classifier wherever it runs: `auto` would measure MiniLM (tens of ms of CPU a ticket)
        # instead of the engine room. TRIAGE_CLASSIFIER overrides it.
        "TRIAGE_CLASSIFIER": os.environ.get("TRIAGE_CLASSIFIER", "tfidf"),
        # The baseline has the plan's shape without an acknowledgement: compare like with like.
        "TRIAGE_ACK": "off",
    }
    os.environ.update(env)
    from inbox.maildir import MaildirSource
    from tasks.ingest import poll_source
    from workers.runtime import runtime

    store = runtime().store
    tmp = Path(tempfile.mkdtemp(dir=tmp))
    try:
        poll_source(MaildirSource(synthetic_mailbox(tmp / "mailbox", args.tickets)))
        triage = str(Path(sys.executable).parent / "triage")
        cmd = [triage, "worker", "--role", "all", "--pool", "threads", "-c", str(args.concurrency)]
        procs, ready = start_workers([[*cmd, "--loglevel", "INFO"]] * args.workers, env, tmp, "triage")
        try:
            cpu = cpu_seconds(procs)
            wait_until(lambda: not store.health.state_counts()["active"], 600, "the tickets to be done")
            cpu = cpu_seconds(procs) - cpu
            runs = [store.runs.get(d.run_id) for d in store.deliveries.recent(args.tickets + 10) if d.run_id]
            rate = steady_rate([r.finished_at.timestamp() for r in runs if r and r.finished_at], ready)
            folder = synthetic_mailbox(tmp / "half-load")
            later = MaildirSource(folder)

            def feed(n: int) -> None:
                deliver(folder, args.tickets + n)
                poll_source(later)

            if half:
                paced(half, rate / 2, feed)
                wait_until(
                    lambda: not store.health.state_counts()["active"], 600, "the half-load tickets to be done"
                )
            fed = [store.runs.get(d.run_id) for d in store.deliveries.recent(half + 10)
                   if d.run_id and d.source == later.name]  # fmt: skip
        finally:
            stop(procs)
    finally:
        store.erase_namespace()
    done = [r for r in runs if r is not None]
    latencies = [(r.finished_at - r.created_at).total_seconds() for r in fed if r and r.finished_at]
    attempts = sum(1 + sum(s.attempts for s in r.steps.values()) for r in done)  # the plan and each step's
    return {
        "tickets": len(done),
        "done": sum(r.status == "done" for r in done),
        "tickets_per_s": rate,
        "attempts_per_ticket": round(attempts / len(done), 2),  # not messages: a task may run several steps
        "cpu_ms_per_ticket": round(cpu * 1000 / len(done), 2),
        "half_load_p99_s": percentile(latencies, 0.99),
    }


def main() -> None:
    """Run the benchmark and its raw-Celery baseline by turns and print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each tool call sleeps")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    parser.add_argument("--rounds", type=int, default=3, help="turns of pipeline and baseline (medians)")
    args = parser.parse_args()

    ours: dict[str, float] = {}
    rounds: list[tuple[float, float]] = []
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="triage-bench-")))
        url = load_settings().redis_url
        if not redis_answers(url):
            url = stack.enter_context(embedded_redis())
        print(f"{args.tickets} tickets, {args.workers} worker(s) x {args.concurrency} threads, "
              f"{args.latency}s per tool call, {args.rounds} round(s), Redis {url}",
              file=sys.stderr)  # fmt: skip
        for turn in range(1, args.rounds + 1):
            last = turn == args.rounds
            ours = run_pipeline(args, url, namespace, tmp, half_load=last)
            raw = raw_celery.measure(args.tickets, args.workers, args.concurrency, args.latency, url,
                                     f"raw-{namespace}", tmp,
                                     half_rate=ours["tickets_per_s"] / 2 if last else None)  # fmt: skip
            rounds.append((ours["tickets_per_s"], raw["tickets_per_s"]))
            cpu = f"{ours['cpu_ms_per_ticket']} ms of CPU a ticket; raw Celery {raw['cpu_ms_per_ticket']} ms"
            print(
                f"round {turn}: triage {rounds[-1][0]} tickets/s, raw Celery {rounds[-1][1]} ({cpu})",
                file=sys.stderr,
            )
    result = {
        **ours,
        "tickets_per_s": statistics.median(r[0] for r in rounds),
        "latency_per_tool_s": args.latency,
        "workers": args.workers,
        "threads_per_worker": args.concurrency,
        # With tools that only wait, threads bound the rate: each ticket holds one for 3 tool calls.
        "concurrency_bound_tickets_per_s": round(args.workers * args.concurrency / (3 * args.latency), 2)
        if args.latency
        else None,
        "raw_celery_tickets_per_s": statistics.median(r[1] for r in rounds),
        "raw_celery_cpu_ms_per_ticket": raw["cpu_ms_per_ticket"],
        "ratio_to_raw_celery": round(statistics.median(r[0] / r[1] for r in rounds), 2),
        "ratio_by_round": [round(r[0] / r[1], 2) for r in rounds],
        "raw_celery_half_load_p99_s": raw["half_load_p99_s"],
        "half_load_p99_overhead_s": round(ours["half_load_p99_s"] - raw["half_load_p99_s"], 3),
    }
    print(
        f"triage: {result['tickets_per_s']} tickets/s ({result['attempts_per_ticket']} attempts, "
        f"{result['cpu_ms_per_ticket']} ms of CPU a ticket); raw Celery: "
        f"{result['raw_celery_tickets_per_s']} tickets/s ({result['raw_celery_cpu_ms_per_ticket']} ms); "
        f"ratio {result['ratio_to_raw_celery']} "
        f"(median of {args.rounds} rounds: {result['ratio_by_round']}). "
        f"At half load ({ours['tickets_per_s'] / 2:.1f}/s) p99 enqueue->done {ours['half_load_p99_s']}s "
        f"against {raw['half_load_p99_s']}s raw: {result['half_load_p99_overhead_s']:+.3f}s overhead"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
