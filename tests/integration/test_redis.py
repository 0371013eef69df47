"""The Redis under the workers: a restart is an outage, not the end of a worker; a Redis that could evict
keys when full is refused, since an evicted key is a ticket lost without a trace."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agent.store import RunStore
from tests.chaos_backends import PrivateRedis
from tests.support import TRIAGE, email_bytes, make_maildir, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def triage_one(env: dict[str, str], store: RunStore, folder: Path) -> str:
    """Ingest one new message through the CLI and wait for its run's final status."""
    box = make_maildir(folder, email_bytes(message_id=f"<restart-{uuid.uuid4().hex}@example.com>"))
    subprocess.run([TRIAGE, "ingest", "--maildir", str(box)], env=env, check=True, capture_output=True)
    [delivery] = [d for d in store.deliveries.recent() if d.source.endswith(str(box.resolve()))]
    run = wait_for(lambda: (r := store.runs.get(delivery.run_id or "")) is not None and r.is_final and r,
                   timeout=60, what="the run to finish")  # fmt: skip
    return run.status


def outages_seen(log: Path) -> int:
    """How often the worker has logged losing its broker connection."""
    return log.read_bytes().count(b"Cannot connect to redis")


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_a_worker_rides_out_a_redis_restart_and_triages_the_mail_that_follows(
    private_redis: PrivateRedis, tmp_path: Path, pool: str
) -> None:
    namespace = f"restart-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TRIAGE_REDIS_URL": private_redis.url, "TRIAGE_NAMESPACE": namespace,
           "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl")}  # fmt: skip
    store = RunStore(redis.Redis.from_url(private_redis.url), namespace, 3600)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([TRIAGE, "worker", "--role", "all", "--pool", pool, "-c", "2"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_for(lambda: b"ready." in log.read_bytes(), timeout=60, what="the worker to start")
        assert triage_one(env, store, tmp_path / "before") == "done"
        for outage in range(2):
            noticed = outages_seen(log)
            private_redis.stop()
            wait_for(lambda seen=noticed: outages_seen(log) > seen or worker.poll() is not None,
                     timeout=30, what="the worker to notice the outage")  # fmt: skip
            private_redis.start()
            assert worker.poll() is None, log.read_text()[-2000:]
            assert triage_one(env, store, tmp_path / f"after-{outage}") == "done", log.read_text()[-2000:]
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def test_a_worker_refuses_a_redis_that_evicts_keys_when_full(tmp_path: Path) -> None:
    evicting = PrivateRedis(tmp_path, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
    evicting.start()
    try:
        env = {**os.environ, "TRIAGE_REDIS_URL": evicting.url, "TRIAGE_NAMESPACE": "evict"}
        done = subprocess.run([TRIAGE, "worker", "--role", "plan"], env=env, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
    finally:
        evicting.stop()
    assert done.returncode == 2
    assert "maxmemory-policy allkeys-lru" in done.stderr and "Set maxmemory-policy noeviction" in done.stderr
