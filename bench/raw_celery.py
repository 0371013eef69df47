"""The baseline `make bench` compares the pipeline with: bare Celery tasks of the same shape.

Each ticket is a plan task that sends categorize and extract at once; the second of them to finish
sends create_issue (one Redis INCR joins them), the shape of the rule planner's plan. The step tasks
only sleep the simulated tool latency (the plan task, like the pipeline's, does not); the Redis, queues,
pool, concurrency and reliability settings (acks_late, prefetch 1, JSON) are the triage workers'. What the
pipeline does beyond this (run state, ledger, validation, the tools' own work, metrics) is what the
ratio measures.

    celery -A bench.raw_celery worker --pool threads -c 16 -Q plan,execute

The worker reads BENCH_REDIS_URL, BENCH_PREFIX and BENCH_LATENCY_S from its environment; `measure` starts
the workers and feeds them as bench/pipeline.py does the triage workers.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import redis
from celery import Celery

from bench.fleet import cpu_seconds, paced, percentile, start_workers, steady_rate, stop, wait_until

STAGES = ("categorize", "extract", "create_issue")
app = Celery("raw-bench")
app.conf.update(
    broker_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    broker_transport_options={"global_keyprefix": f"{os.environ.get('BENCH_PREFIX', 'raw-bench')}:kombu:"},
    broker_connection_retry_on_startup=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    result_backend=None,
    task_serializer="json",
    accept_content=["json"],
    task_routes={"raw.plan": {"queue": "plan"}, "raw.step": {"queue": "execute"}},
    worker_hijack_root_logger=False,
)
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(app.conf.broker_url)
    return _client


def _key(name: str) -> str:
    return f"{os.environ.get('BENCH_PREFIX', 'raw-bench')}:{name}"


@app.task(name="raw.plan")
def plan(ticket: int, enqueued_at: float) -> None:
    """The plan task: no tool; sends the two steps that need nothing but the ticket."""
    for stage in STAGES[:2]:
        step.delay(ticket, enqueued_at, stage)


@app.task(name="raw.step")
def step(ticket: int, enqueued_at: float, stage: str) -> None:
    """One tool step: sleep the simulated latency; the last records the ticket's enqueue->done time and
    when it finished."""
    time.sleep(float(os.environ.get("BENCH_LATENCY_S", "0")))
    if stage != STAGES[-1]:
        if _redis().incr(_key(f"join:{ticket}")) == 2:
            step.delay(ticket, enqueued_at, STAGES[-1])
        return
    finished = time.time()
    _redis().rpush(_key("finished"), f"{finished - enqueued_at} {finished}")


def enqueue(first: int, count: int) -> None:
    """Send tickets first .. first + count - 1."""
    for ticket in range(first, first + count):
        plan.delay(ticket, time.time())


def measure(
    tickets: int,
    workers: int,
    concurrency: int,
    latency: float,
    url: str,
    prefix: str,
    logs: Path,
    half_rate: float | None,
) -> dict[str, float]:
    """Drain `tickets` prefilled chains (tickets/s once every worker is ready), then (given a
    `half_rate`) feed a quarter as many at that rate per second and time each enqueue->done. Keys live
    under `prefix` (the same in every round: this process's app keeps its first broker connection) and
    are deleted after."""
    env = {**os.environ, "BENCH_REDIS_URL": url, "BENCH_PREFIX": prefix, "BENCH_LATENCY_S": str(latency)}
    os.environ.update(env)
    app.conf.update(broker_url=url, broker_transport_options={"global_keyprefix": f"{prefix}:kombu:"})
    client = redis.Redis.from_url(url)
    finished = _key("finished")
    celery = str(Path(sys.executable).parent / "celery")
    cmd = [celery, "-A", "bench.raw_celery", "worker", "--pool", "threads", "-c", str(concurrency),
           "-Q", "plan,execute", "--loglevel", "INFO"]  # fmt: skip
    enqueue(0, tickets)
    named = [[*cmd, "-n", f"{prefix}-{i}@%h"] for i in range(workers)]
    procs, ready = start_workers(named, env, logs, "raw")
    try:
        cpu = cpu_seconds(procs)
        wait_until(lambda: client.llen(finished) >= tickets, 600, "the raw chains to finish")
        cpu = cpu_seconds(procs) - cpu
        rate = steady_rate([float(v.split()[1]) for v in client.lrange(finished, 0, -1)], ready)
        client.delete(finished)
        latencies: list[float] = []
        if half_rate is not None:
            half = max(50, tickets // 4)
            paced(half, half_rate, lambda n: enqueue(tickets + n, 1))
            wait_until(lambda: client.llen(finished) >= half, 600, "the half-load chains to finish")
            latencies = [float(v.split()[0]) for v in client.lrange(finished, 0, -1)]
    finally:
        stop(procs)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    return {"tickets_per_s": rate, "half_load_p99_s": percentile(latencies, 0.99),
            "cpu_ms_per_ticket": round(cpu * 1000 / tickets, 2)}  # fmt: skip
