"""A fleet of worker processes shares one memory on a `chroma run` server: what the executor remembers,
the planner (another process) recalls; with the server stopped mid-run every ticket still ends, without
memory, and says so; started again, memory is back."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from agent.run import Run
from agent.store import RunStore
from tests.chroma_server import ChromaServer
from tests.support import ROOT, TRIAGE, email_bytes, variant_mailbox, wait_for
from tests.test_incident_mailbox import ROOT as INCIDENTS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]


class Fleet:
    """A `triage worker` process per role on one namespace: ingest (with beat, polling a Maildir), plan
    (recalls) and execute (remembers, links incidents)."""

    def __init__(self, redis_url: str, chroma: ChromaServer, folder: Path) -> None:
        self.namespace = f"test-fleet-{uuid.uuid4().hex[:8]}"
        self.maildir = folder / "mail"
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        self.store = RunStore(redis.Redis.from_url(redis_url), self.namespace, 3600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        self.env = env | {
            "TRIAGE_REDIS_URL": redis_url, "TRIAGE_NAMESPACE": self.namespace, "TRIAGE_MAILDIR": str(self.maildir),
            "TRIAGE_POLL_INTERVAL_S": "1", "TRIAGE_METRICS_PORT": "0", "TRIAGE_RETRY_SCALE": "0.05",
            "TRIAGE_OUTBOX_PATH": str(folder / "outbox.jsonl"), "TRIAGE_MEMORY": "on",
            "TRIAGE_MEMORY_URL": chroma.url, "TRIAGE_MEMORY_EMBEDDER": "hashed",
        }  # fmt: skip
        self.roles = ("ingest", "plan", "execute")
        self.logs = [folder / f"{role}.log" for role in self.roles]
        self.workers: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for role, log in zip(self.roles, self.logs, strict=True):
            with log.open("wb") as out:
                command = [TRIAGE, "worker", "--role", role, "--pool", "threads", "--concurrency", "4"]
                self.workers.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=out))
        for log in self.logs:
            wait_for(lambda f=log: " ready." in f.read_text(), 90, f"the worker of {log.name}")  # type: ignore[misc]

    def stop(self) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait(timeout=60)
        self.store.erase_namespace()

    def runs(self, count: int) -> list[Run]:
        """Wait until `count` runs are final (the fleet polls the Maildir itself); all of them."""

        def final() -> list[Run] | None:
            runs = [r for r in map(self.store.runs.get, self.store.runs.all_ids()) if r is not None]
            return runs if len(runs) >= count and all(r.is_final for r in runs) else None

        return wait_for(final, 240, f"{count} runs to finish")


@pytest.fixture
def fleet(redis_url: str, chroma: ChromaServer, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(redis_url, chroma, tmp_path)
    try:
        fleet.start()
        yield fleet
    finally:
        fleet.stop()


def test_two_workers_share_memory_and_go_on_without_it_when_the_server_stops(
    fleet: Fleet, chroma: ChromaServer, tmp_path: Path
) -> None:
    variant_mailbox(tmp_path / "incidents", "fleet", source=INCIDENTS)
    mails = sorted((tmp_path / "incidents").glob("*/*"))
    first, second = mails[::2], mails[1::2]  # the second wave is planned once the first is remembered
    for wave, total in ((first, len(first)), (second, len(mails))):
        for path in wave:
            path.rename(fleet.maildir / "new" / path.name)
        runs = fleet.runs(total)
    assert all(run.status == "done" for run in runs)
    # The executor remembered every ticket; the planner, another process, recalled them.
    executor = str(fleet.workers[2].pid)
    assert {str(run.steps["remember"].owner).rsplit(":", 1)[-1] for run in runs} == {executor}
    assert sum(bool(run.recall and run.recall.similar) for run in runs) >= len(second) - 2
    incidents = {fleet.store.incidents.incident_of(run.ticket.id) for run in runs} - {None}
    assert len(incidents) == 4

    chroma.stop()  # mid-run: the fleet keeps working, without memory
    down = [email_bytes(message_id=f"<down-{i}@example.com>", subject=f"Cannot log in ({i})",
                        body="The password reset mail never arrives.", sender=f"u{i}@example.com")
            for i in range(3)]  # fmt: skip
    for i, raw in enumerate(down):
        (fleet.maildir / "new" / f"down-{i}.eml").write_bytes(raw)
    later = [run for run in fleet.runs(31) if run.ticket.message_id.startswith("down-")]
    assert len(later) == 3 and all(run.status == "done" for run in later)
    assert all(run.recall is not None and run.recall.error for run in later)
    assert all(run.steps["remember"].status == "skipped" for run in later)

    chroma.start()  # back: the next ticket is remembered again
    (fleet.maildir / "new" / "back.eml").write_bytes(
        email_bytes(
            message_id="<back@example.com>",
            subject="Invoice question",
            body="Where is my invoice?",
            sender="v@example.com",
        )
    )
    [back] = [run for run in fleet.runs(32) if run.ticket.message_id.startswith("back")]
    assert back.status == "done" and back.steps["remember"].status == "done"
