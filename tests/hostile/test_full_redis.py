"""A full Redis never stops intake for good, and a live poller keeps its mailbox."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from agent.store import RunStore
from inbox.source import RawMessage, delivery_id_for
from tasks import ingest as ingest_module
from tasks.ingest import poll_source
from tests.chaos_backends import PrivateRedis
from tests.conftest import Pipeline
from tests.support import TRIAGE, email_bytes, make_maildir, wait_for

pytestmark = pytest.mark.integration


def test_mail_redis_has_no_room_for_is_quarantined_by_reference_and_the_next_mail_still_comes_in(
    tmp_path: Path,
) -> None:
    server = PrivateRedis(tmp_path, "--maxmemory", "24mb", "--maxmemory-policy", "noeviction")
    server.start()
    big = [email_bytes(subject=f"big {i}", body="z" * 9_000_000, message_id=f"<big-{i}@x>") for i in range(3)]
    box = make_maildir(
        tmp_path / "mailbox", *big, email_bytes(subject="Cannot log in", message_id="<normal@x>")
    )
    namespace = f"test-full-{uuid.uuid4().hex[:6]}"
    env = {
        **os.environ,
        "TRIAGE_REDIS_URL": server.url,
        "TRIAGE_NAMESPACE": namespace,
        "TRIAGE_MAILDIR": str(box),
        "TRIAGE_POLL_INTERVAL_S": "1",
        "TRIAGE_METRICS_PORT": "0",
        "TRIAGE_MAX_MESSAGE_BYTES": "20000000",
        "TRIAGE_OUTBOX_PATH": str(tmp_path / "outbox.jsonl"),
    }
    store = RunStore(redis.Redis.from_url(server.url), namespace, 3600)
    try:
        with open(tmp_path / "worker.log", "wb") as log:
            worker = subprocess.Popen(
                [TRIAGE, "worker", "--role", "all", "--pool", "threads", "-c", "2"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
            try:
                deliveries = wait_for(
                    lambda: len(store.deliveries.recent()) == 4 and store.deliveries.recent(), 90, "outcomes"
                )
                normal = next(d for d in deliveries if d.message_id == "normal@x")
                wait_for(
                    lambda: (r := store.runs.get(normal.run_id or "")) is not None and r.status == "done",
                    60,
                    "the normal mail behind the big ones to be done",
                )
                assert worker.poll() is None, "the worker is still running"
            finally:
                worker.terminate()
                worker.wait(timeout=60)
    finally:
        server.stop()
    refused = [d for d in deliveries if d.outcome == "quarantined"]
    assert refused, "the third 9 MB message cannot fit in 24 MB"
    # Refused before its bytes were sent (a 9 MB write Redis must refuse swells its memory past the limit
    # for a while, and an over-full Redis refuses Celery's acknowledgements: the worker stopped).
    assert all(
        d.reason and d.reason.startswith("Redis has no room for its") and "stays in maildir:" in d.reason
        for d in refused
    )
    assert "ingest not-stored" in (tmp_path / "worker.log").read_text()


class SlowSource:
    """A mailbox whose one message takes `seconds` to fetch (a slow IMAP server)."""

    def __init__(self, name: str, seconds: float, release: threading.Event) -> None:
        self.name, self.seconds, self.release = name, seconds, release
        self.mailbox = "default"

    def pending(self) -> Iterator[RawMessage]:
        self.release.wait(self.seconds)
        raw = email_bytes(message_id=f"<slow-{uuid.uuid4().hex}@x>")
        yield RawMessage(delivery_id_for(self.name, "k1"), self.name, "k1", raw)

    def mark_processed(self, delivery: RawMessage) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_live_poller_keeps_its_lock_however_long_a_message_takes(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "POLLER_LOCK_S", 1)
    release = threading.Event()
    slow = SlowSource(f"slow-{uuid.uuid4().hex[:6]}", 30, release)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(poll_source(slow)))
    first.start()
    started = time.monotonic()
    key = pipeline.store.keys.poller_lock(slow.name)
    # Three lock lifetimes later the fetch is still running, and a second poller is still turned away.
    wait_for(
        lambda: time.monotonic() - started > 3 and pipeline.store.redis.exists(key),
        10,
        "three lock lifetimes",
    )
    assert poll_source(SlowSource(slow.name, 0, threading.Event())) == 0
    release.set()
    first.join(timeout=30)
    assert results == [1] and not pipeline.store.redis.exists(key)
