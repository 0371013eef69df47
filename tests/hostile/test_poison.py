"""A step that kills its worker process is dead-lettered after TRIAGE_POISON_THRESHOLD deaths, under the
prefork pool too (each attempt records the pool process that runs it, not the parent it forked from)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from agent.store import RunStore
from tests.hostile.killer import MARKER
from tests.support import ROOT, email_bytes, make_maildir, wait_for

pytestmark = pytest.mark.integration


def test_a_step_that_kills_its_prefork_process_is_dead_lettered_as_poison(
    redis_url: str, tmp_path: Path
) -> None:
    box = make_maildir(tmp_path / "mailbox", email_bytes(subject=f"{MARKER} please", message_id="<poison@x>"),
                       email_bytes(subject="Invoice wrong", message_id="<after-poison@x>"))  # fmt: skip
    namespace = f"test-poison-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": namespace, "TRIAGE_MAILDIR": str(box),
           "TRIAGE_POLL_INTERVAL_S": "1", "TRIAGE_METRICS_PORT": "0", "TRIAGE_POISON_THRESHOLD": "2",
           "TRIAGE_SWEEP_INTERVAL_S": "1", "TRIAGE_SWEEP_STALE_S": "2", "TRIAGE_RETRY_SCALE": "0.01",
           "TRIAGE_TOOL_TIMEOUTS": '{"categorize_ticket": 2}', "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl")}  # fmt: skip
    store = RunStore(redis.Redis.from_url(redis_url), namespace, 3600)
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "tests.hostile.killer", "worker", "--role", "all",
                                   "--pool", "prefork", "-c", "2"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)  # fmt: skip
        try:

            def final_runs() -> list[str] | None:
                runs = [store.runs.get(d.run_id) for d in store.deliveries.recent() if d.run_id]
                done = [r for r in runs if r is not None and r.is_final]
                return (
                    [f"{r.ticket.subject}: {r.status}: {r.error}" for r in done] if len(done) == 2 else None
                )

            outcomes = wait_for(final_runs, 120, "the poison ticket to be dead-lettered and the other done")
        finally:
            worker.terminate()
            worker.wait(timeout=60)
            store.erase_namespace()
    assert sorted(outcomes) == [
        "Invoice wrong: done: None",
        f"{MARKER} please: dead_letter: step 'categorize' (categorize_ticket) failed: poison: its worker died 2 times running it",
    ], (tmp_path / "worker.log").read_text()[-3000:]
    shutil.rmtree(box)
