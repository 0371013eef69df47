"""The README's worker block, as shown, on one host: a worker of each role, each serving its /metrics."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support import README_WORKER_BLOCK, wait_for
from workers.app import METRICS_PORTS

pytestmark = pytest.mark.integration


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_readme_worker_block_runs_on_one_host(redis_url: str, tmp_path: Path) -> None:
    ports = sorted(set(METRICS_PORTS.values()))
    if not all(port_is_free(p) for p in ports):
        pytest.skip(f"another program listens on one of the default metrics ports {ports}")
    commands = README_WORKER_BLOCK
    assert [c[:3] for c in commands] == [[".venv/bin/triage", "worker", "--role"]] * 3
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "operator-notes.txt").write_text("kept")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env |= {"TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": f"test-host-{uuid.uuid4().hex[:8]}",
            "TRIAGE_METRICS_HOST": "127.0.0.1", "TRIAGE_METRICS_DIR": str(metrics_dir)}  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    logs = [tmp_path / f"worker{i}.log" for i in range(len(commands))]
    workers = []
    for command, log in zip(commands, logs, strict=True):
        with log.open("wb") as out:
            workers.append(subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        for port in ports:
            wait_for(lambda p=port: answers(p), 60, f"/metrics on port {port}")  # type: ignore[misc]
        for log in logs:  # consuming: Celery's own shutdown handlers are in place
            wait_for(lambda f=log: " ready." in f.read_text(), 60, f"the worker of {log.name}")  # type: ignore[misc]
        said = "".join(log.read_text() for log in logs)
        assert (
            sorted(int(p) for p in re.findall(r"metrics: serving /metrics on 127\.0\.0\.1:(\d+)", said))
            == ports
        )
        assert "Address already in use" not in said
        assert (
            len(list(metrics_dir.glob("triage-metrics-*"))) == 3
        )  # a folder each, beside the operator's file
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    assert sorted(p.name for p in metrics_dir.iterdir()) == ["operator-notes.txt"]  # each removed its own


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
