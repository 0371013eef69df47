"""Real `triage worker` processes for the tests that need them (prefork pools, several processes, the
worker's own start-up), each polling a Maildir of its own in a Redis namespace of its own."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from agent.store import RunStore
from tests.support import TRIAGE


def deliver(box: Path, name: str, raw: bytes) -> None:
    """Drop a message into new/ the way an MTA does (write in tmp/, then rename)."""
    (box / "tmp" / name).write_bytes(raw)
    os.replace(box / "tmp" / name, box / "new" / name)


Worker = tuple[subprocess.Popen[bytes], Path, RunStore]


@dataclass(frozen=True)
class Fleet:
    """Worker processes sharing one Redis namespace and one Maildir; `env` is theirs (a command run
    with it acts on their namespace)."""

    processes: list[subprocess.Popen[bytes]]
    box: Path
    store: RunStore
    env: dict[str, str]


@contextmanager
def worker_fleet(
    redis_url: str,
    tmp: Path,
    roles: Sequence[str] = ("all",),
    client: redis.Redis | None = None,
    pool: str = "prefork",
    **settings: str,
) -> Iterator[Fleet]:
    """Real workers (`triage worker --role ROLE --pool POOL -c 2`, one per role given) polling a
    Maildir of their own, in a Redis namespace of their own (erased after), with these TRIAGE_ settings
    besides; each process logs to worker-N.log in `tmp`. `client`: how the test reaches the same Redis
    (a Sentinel-aware one when the workers follow Sentinels)."""
    box = tmp / "mailbox"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    namespace = f"test-workers-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "TRIAGE_REDIS_URL": redis_url,
        "TRIAGE_NAMESPACE": namespace,
        "TRIAGE_MAILDIR": str(box),
        "TRIAGE_POLL_INTERVAL_S": "0.5",
        "TRIAGE_METRICS_PORT": "0",
        "TRIAGE_RETRY_SCALE": "0.01",
        "TRIAGE_OUTBOX_PATH": str(tmp / "outbox.jsonl"),
        **{f"TRIAGE_{name.upper()}": value for name, value in settings.items()},
    }
    store = RunStore(client or redis.Redis.from_url(redis_url), namespace, 3600)
    processes = []
    try:
        for n, role in enumerate(roles):
            command = [TRIAGE, "worker", "--role", role, "--pool", pool, "-c", "2"]
            with open(tmp / f"worker-{n}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
                )
        yield Fleet(processes, box, store, env)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        store.erase_namespace()


@contextmanager
def prefork_worker(redis_url: str, tmp: Path, **settings: str) -> Iterator[Worker]:
    """One real worker of every role (see worker_fleet)."""
    with worker_fleet(redis_url, tmp, ("all",), **settings) as fleet:
        yield fleet.processes[0], fleet.box, fleet.store


def outcome_of(store: RunStore, key: str) -> str | None:
    """The final outcome of the message delivered under this Maildir key: its delivery's, or its run's
    status once final; None while it is pending."""
    delivery = next((d for d in store.deliveries.recent(limit=100_000) if d.key == key), None)
    if delivery is None:
        return None
    if not delivery.run_id:
        return delivery.outcome
    run = store.runs.get(delivery.run_id)
    return run.status if run is not None and run.is_final else None
