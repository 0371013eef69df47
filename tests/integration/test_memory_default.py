"""Memory without a flag: a single `all` worker remembers in its embedded folder (one process, a threads
pool); a worker of a fleet starts without memory and says, in one line, that it needs a server."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import redis

from agent.run import Run
from agent.store import RunStore
from tests.support import ROOT, TRIAGE, email_bytes, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def environment(redis_url: str, tmp_path: Path, namespace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}  # no TRIAGE_MEMORY at all
    return env | {
        "TRIAGE_REDIS_URL": redis_url,
        "TRIAGE_NAMESPACE": namespace,
        "TRIAGE_MAILDIR": str(tmp_path / "mail"),
        "TRIAGE_POLL_INTERVAL_S": "1",
        "TRIAGE_METRICS_PORT": "0",
        "TRIAGE_CLASSIFIER": "tfidf",
        "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
        "TRIAGE_MEMORY_PATH": str(tmp_path / "memory"),
        "TRIAGE_MEMORY_EMBEDDER": "hashed",
    }


def started(options: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`triage worker OPTIONS`, its output in `log`, once it is ready."""
    with log.open("wb") as out:
        worker = subprocess.Popen([TRIAGE, "worker", *options], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_for(lambda: " ready." in log.read_text(), 90, "the worker")
    except AssertionError:
        worker.kill()
        raise
    return worker


def test_a_single_all_worker_remembers_in_its_folder_without_a_flag(redis_url: str, tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    namespace = f"test-memdefault-{uuid.uuid4().hex[:8]}"
    store = RunStore(redis.Redis.from_url(redis_url), namespace, 3600)
    log = tmp_path / "worker.log"
    worker = started(["--role", "all"], log, environment(redis_url, tmp_path, namespace))
    try:

        def final(count: int) -> list[Run] | None:
            runs = [r for r in map(store.runs.get, store.runs.all_ids()) if r is not None]
            return runs if len(runs) == count and all(r.is_final for r in runs) else None

        for i in range(2):  # the second after the first is done: it recalls what the first left
            raw = email_bytes(
                message_id=f"<mem-{i}@example.com>",
                subject="Invoice question",
                body="Where is my invoice for March?",
                sender="ann@example.com",
            )
            (tmp_path / "mail" / "new" / f"{i}.eml").write_bytes(raw)
            runs = wait_for(lambda n=i + 1: final(n), 120, f"run {i + 1} to finish")  # type: ignore[misc]
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        store.erase_namespace()
    text = log.read_text()
    assert f"memory: the embedded folder {tmp_path / 'memory'}, in one process" in text
    assert "(thread)" in text  # Celery's banner: the threads pool
    assert all(run.status == "done" and run.steps["remember"].status == "done" for run in runs)
    second = max(runs, key=lambda run: run.created_at)
    assert second.recall is not None and second.recall.history  # the first was remembered, and recalled
    assert (tmp_path / "memory").is_dir()


def test_a_worker_of_a_fleet_starts_without_memory_and_says_why(redis_url: str, tmp_path: Path) -> None:
    namespace = f"test-memdefault-{uuid.uuid4().hex[:8]}"
    (tmp_path / "mail").mkdir()
    log = tmp_path / "plan.log"
    worker = started(["--role", "plan", "-c", "2"], log, environment(redis_url, tmp_path, namespace))
    worker.terminate()
    worker.wait(timeout=60)
    RunStore(redis.Redis.from_url(redis_url), namespace, 3600).erase_namespace()
    lines = [line for line in log.read_text().splitlines() if "TRIAGE_MEMORY_URL" in line]
    assert lines == [
        f"memory is off: the plan role (one of a fleet) cannot share the embedded folder {tmp_path / 'memory'}; "
        "set TRIAGE_MEMORY_URL to a `chroma run` server (README: Memory)"
    ]
    assert not (tmp_path / "memory").exists()
