"""Fixtures: real Redis (the running one, else an embedded redis-server), a real in-process worker."""

from __future__ import annotations

import dataclasses
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr

from agent.run import Delivery, Run
from agent.store import RunStore
from inbox.maildir import MaildirSource
from tests.chroma_server import CHROMA, ChromaServer
from tests.hosts import TEST_BRIDGES
from tests.jira_server import FakeJira, running_jira
from tests.support import wait_for
from tools.base import Tool
from tools.catalog import CATALOG
from workers import runtime as runtime_module
from workers.embedded_redis import embedded_redis, redis_answers
from workers.settings import Settings, load_settings

# The suite's figures and expected categories are the TF-IDF classifier's, whatever extras the venv
# has; tests/tools/test_embeddings.py (make test-embeddings) covers the embeddings classifier.
os.environ.setdefault("TRIAGE_CLASSIFIER", "tfidf")
# Memory is on by default where it can serve; a test that wants it says so (and where it lives).
os.environ.setdefault("TRIAGE_MEMORY", "off")

_real_connect = socket.socket.connect


def _loopback_only(sock: socket.socket, address: Any) -> Any:
    """Tests never reach the network (no real LLM, no real Jira): only loopback, unix sockets, and the
    bridges of the test's own network namespaces (tests/hosts.py)."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        if not (host.startswith(("127.", *TEST_BRIDGES)) or host in ("::1", "localhost")):
            raise RuntimeError(f"a test tried to reach {host}: tests may only talk to loopback servers")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Guard: any connection beyond loopback fails the test that makes it."""
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis the tests use: TRIAGE_REDIS_URL or 127.0.0.1:6379 when it answers, else a private one."""
    url = os.environ.get("TRIAGE_REDIS_URL", "redis://127.0.0.1:6379/0")
    if redis_answers(url):
        yield url
    else:
        with embedded_redis() as private:
            yield private


@pytest.fixture
def store(redis_url: str) -> Iterator[RunStore]:
    """A run store in a namespace of its own, erased after the test."""
    client = redis.Redis.from_url(redis_url)
    run_store = RunStore(client, f"test-{uuid.uuid4().hex[:10]}", retention_s=3600)
    yield run_store
    run_store.erase_namespace()


@dataclasses.dataclass
class Pipeline:
    """The real pipeline under test: a configured app, a running worker, and its run store."""

    settings: Settings
    store: RunStore

    def feed(self, maildir: Path, mailbox: str = "default") -> list[Delivery]:
        """Poll a Maildir (the desk's `mailbox`) through the real ingest path; return the deliveries it
        recorded."""
        from tasks.ingest import poll_source

        source = MaildirSource(maildir, mailbox=mailbox)
        keys = [d.key for d in source.pending()]
        poll_source(source)
        by_key = {d.key: d for d in self.store.deliveries.recent(limit=10_000) if d.source == source.name}
        return [by_key[k] for k in keys]

    def wait_final(self, run_id: str, timeout: float = 30) -> Run:
        """Wait until a run is done or dead-lettered, and return it."""

        def final() -> Run | None:
            run = self.store.runs.get(run_id)
            return run if run is not None and run.is_final else None

        return wait_for(final, timeout, f"run {run_id} to finish")

    def run_variant_mailbox(self, folder: Path, timeout: float = 60) -> list[Run]:
        """Feed the sample mailbox with fresh Message-IDs and wait for every run to finish."""
        from tests.support import variant_mailbox

        deliveries = self.feed(variant_mailbox(folder, uuid.uuid4().hex[:8]))
        return [self.wait_final(d.run_id, timeout) for d in deliveries if d.run_id]

    def outbox(self) -> list[dict[str, Any]]:
        """The dry-run outbox lines written so far."""
        import json

        path = self.settings.outbox_path
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="session")
def pipeline(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A real Celery worker (threads) in this process, on real Redis, in a namespace of its own."""
    from cli.inprocess import running_worker
    from workers.app import configure

    settings = load_settings(
        redis_url=redis_url,
        namespace=f"test-{uuid.uuid4().hex[:10]}",
        outbox_path=tmp_path_factory.mktemp("outbox") / "outbox.jsonl",
        retry_scale=0.01,
        maildir=None,
        metrics_port=0,  # the monitoring tests run their own workers and exporters
        ack_per_sender_hour=100,  # the session sends the sample mailbox's customers many tickets
        sender_max_per_hour=100_000,  # ... and starts as many runs for them
        ack_per_domain_hour=1000,
        ack_per_hour=10_000,
    )
    configure(settings)
    rt = runtime_module.runtime()
    try:
        with running_worker(concurrency=8):
            yield Pipeline(settings, rt.store)
    finally:
        rt.store.erase_namespace()


@pytest.fixture
def swap_runtime(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Replace parts of the worker's runtime (planner, llm, tool_config) for this test."""

    def install(**changes: Any) -> None:
        monkeypatch.setattr(
            runtime_module, "_current", dataclasses.replace(runtime_module.runtime(), **changes)
        )

    return install


@pytest.fixture
def point_at_jira(swap_runtime: Any) -> Any:
    """Point the worker's tools at a Jira test server for this test (more tool settings may change)."""

    def point(server: Any, **changes: Any) -> None:
        update = {"jira_url": server.url, "jira_user": server.user, "jira_api_token": SecretStr(server.token)}
        swap_runtime(
            tool_config=runtime_module.runtime().tool_config.model_copy(update={**update, **changes})
        )

    return point


@pytest.fixture
def jira(pipeline: Pipeline, point_at_jira: Any) -> Iterator[FakeJira]:
    """A Jira test server (the real jira client's peer) the worker's tools write to for this test."""
    with running_jira(FakeJira()) as server:
        point_at_jira(server)
        yield server


@pytest.fixture
def use_planner(swap_runtime: Any) -> Any:
    """Swap the planner the worker uses for this test."""
    return lambda planner: swap_runtime(planner=planner)


@pytest.fixture
def add_tool(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Put an extra tool into the catalog (and the worker's runtime copy of it) for this test."""

    def install(tool: Tool[Any, Any]) -> None:
        monkeypatch.setitem(CATALOG, tool.name, tool)
        monkeypatch.setitem(runtime_module.runtime().catalog, tool.name, tool)

    return install


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A Chroma server of the test's own, stopped after it."""
    if CHROMA is None:
        pytest.skip("`chroma` is not installed beside this Python (make install installs chromadb)")
    server = ChromaServer(tmp_path / "chroma", CHROMA)
    server.start()
    try:
        yield server
    finally:
        server.stop()
