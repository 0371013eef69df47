"""What both benchmarks share: starting and stopping worker processes, percentiles, paced feeding."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def start_workers(
    commands: list[list[str]], env: dict[str, str], logs: Path, name: str
) -> tuple[list[subprocess.Popen[bytes]], float]:
    """Start one worker per command; return them and the moment (unix seconds) the last said it was
    ready: from then on the whole fleet works, and its rate is what is compared."""
    procs, paths = [], [logs / f"{name}-{i}.log" for i in range(len(commands))]
    for cmd, path in zip(commands, paths, strict=True):
        log = open(path, "wb")  # noqa: SIM115 (lives as long as the worker)
        procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 120
    while True:
        if all(b"ready." in path.read_bytes() for path in paths):
            return procs, time.time()
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            stop(procs)
            raise RuntimeError(f"workers did not start; see {logs}")
        time.sleep(0.02)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop workers (warm shutdown) and wait for them."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(60)


def steady_rate(finished_at: list[float], since: float) -> float:
    """Tickets per second finished from `since` (unix seconds) to the last one: the whole fleet's rate,
    without its start-up (the first worker up works alone until the others are)."""
    after = sorted(t for t in finished_at if t > since)
    return round(len(after) / (after[-1] - since), 2) if after else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank), in seconds rounded to milliseconds."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3) if ordered else float("nan")


def paced(count: int, rate_per_s: float, feed_one: Callable[[int], None]) -> None:
    """Call feed_one(i) for i in range(count) at a steady rate (catching up when a call ran late)."""
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate_per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        feed_one(i)


def wait_until(done: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `done` every 50 ms (one cheap Redis call: the harness must not eat the workers' CPU)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout_s:.0f}s")
        time.sleep(0.05)


def cpu_seconds(procs: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds the workers and their live child processes (the tools' helper processes) have used so
    far, read from /proc (NaN where there is none): the cost of a ticket, steadier than a rate on a
    shared machine."""
    if not Path("/proc/self/stat").exists():
        return float("nan")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
    ours, found = {p.pid for p in procs}, True
    while found:  # the workers, their children, their children's children
        found = False
        for pid, fields in stats.items():
            if pid not in ours and int(fields[1]) in ours:
                ours.add(pid)
                found = True
    return sum(int(stats[pid][11]) + int(stats[pid][12]) for pid in ours if pid in stats) / _TICK
