"""Operators' own tools see the workers: real Flower, fed by the task events of `triage worker -E`."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import SAMPLE_MAILBOX, TRIAGE, wait_for
from workers.servers import free_port

pytestmark = pytest.mark.integration

AUTH = "ops:flower-test-password"


def flower_api(port: int, path: str) -> Any:
    """GET a Flower API path with basic auth; None while Flower is not answering yet."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    request.add_header("Authorization", "Basic " + base64.b64encode(AUTH.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.fixture
def fleet(redis_url: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A worker with task events on (-E) polling a copy of the sample mailbox, and Flower beside it."""
    shutil.copytree(SAMPLE_MAILBOX, tmp_path / "mailbox")
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": f"test-flower-{uuid.uuid4().hex[:8]}",
           "TRIAGE_MAILDIR": str(tmp_path / "mailbox"), "TRIAGE_POLL_INTERVAL_S": "1", "TRIAGE_METRICS_PORT": "0",
           "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl")}  # fmt: skip
    port = free_port()
    celery = str(Path(sys.executable).parent / "celery")
    with open(tmp_path / "worker.log", "wb") as wlog, open(tmp_path / "flower.log", "wb") as flog:
        worker = subprocess.Popen([TRIAGE, "worker", "--role", "all", "--pool", "threads", "-c", "4", "-E"],
                                  env=env, stdout=wlog, stderr=subprocess.STDOUT, cwd=tmp_path)  # fmt: skip
        flower = subprocess.Popen([celery, "-A", "workers.app", "flower", f"--port={port}", "--address=127.0.0.1",
                                   f"--basic-auth={AUTH}"], env=env, stdout=flog, stderr=subprocess.STDOUT, cwd=tmp_path)  # fmt: skip
        try:
            yield port, tmp_path
        finally:
            for process in (flower, worker):
                process.terminate()
                process.wait(timeout=30)


def test_flower_shows_the_triage_tasks_a_worker_ran(fleet: tuple[int, Path]) -> None:
    port, tmp = fleet

    def done_steps() -> list[dict[str, Any]]:
        tasks = flower_api(port, "/api/tasks?taskname=triage.execute_step&state=SUCCESS") or {}
        return list(tasks.values())

    try:
        steps = wait_for(done_steps, 90, "Flower to see a finished execute_step")
    except AssertionError as timed_out:
        raise AssertionError(
            (tmp / "worker.log").read_text()[-3000:] + (tmp / "flower.log").read_text()[-3000:]
        ) from timed_out
    assert steps[0]["name"] == "triage.execute_step" and steps[0]["worker"].startswith("all-")
    workers = wait_for(
        lambda: flower_api(port, "/api/workers?refresh=true"), 30, "Flower to inspect the worker"
    )
    [(name, seen)] = workers.items()
    assert name.startswith("all-") and seen["stats"]["total"]["triage.execute_step"] >= 1
