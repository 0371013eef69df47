"""A worker told to stop the way a supervisor stops a container (SIGTERM to every process of it at once,
its tool helpers included) while it reads a mailbox: the mail it was reading is not quarantined as
unreadable, and the mail it had not read stays in the mailbox for the next worker; nothing is lost."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest

from tests.support import email_bytes, wait_for
from tests.worker_processes import deliver, worker_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def family(pid: int) -> list[int]:
    """A process and every process under it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def test_a_worker_stopped_while_it_reads_mail_quarantines_none_and_loses_none(
    redis_url: str, tmp_path: Path
) -> None:
    with worker_fleet(redis_url, tmp_path, ("all",), pool="threads", parse_deadline_s="20") as fleet:
        keys = [f"{1_800_000_000 + n}.stop{n}.mx" for n in range(80)]
        for n, key in enumerate(keys):
            deliver(
                fleet.box,
                key,
                email_bytes(subject=f"Cannot log in ({n})", message_id=f"<{uuid.uuid4().hex}@x>"),
            )
        wait_for(lambda: len(fleet.store.deliveries.recent(limit=100)) >= 5 or None, 60, "a few mails read")
        worker = fleet.processes[0]
        for pid in family(worker.pid):  # as `docker stop` or systemd's control-group kill: all at once
            os.kill(pid, signal.SIGTERM)
        worker.wait(120)
        recorded = {d.key: d for d in fleet.store.deliveries.recent(limit=100)}
        unread = {name.split(":2,")[0] for name in os.listdir(fleet.box / "new")}
        unread |= {
            name.split(":2,")[0]
            for name in os.listdir(fleet.box / "cur")
            if not name.split(":2,")[-1].count("S")
        }

    assert [d.reason for d in recorded.values() if d.outcome == "quarantined"] == []
    assert all(key in recorded or key in unread for key in keys)  # read and recorded, or still to read
