"""The machine's RabbitMQ (running before the session, like Redis) for the tests that use it as the broker:
a virtual host of the test's own, removed after; and a restart of the broker (its application stopped
and started, every connection dropped, the quorum queues' data kept on disk)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from kombu import Connection

BROKER = "amqp://guest:guest@127.0.0.1:5672"


def rabbitmq_absent() -> str | None:
    """Why the tests cannot use RabbitMQ here, or None when they can."""
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed (RabbitMQ runs on the CI machine)"
    try:
        with Connection(f"{BROKER}//", connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"RabbitMQ does not answer at 127.0.0.1:5672: {exc}"
    return None


def _ctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


@contextmanager
def private_vhost() -> Iterator[str]:
    """A virtual host of this test's own; yields the broker URL into it (removed after, with its queues)."""
    vhost = f"triage-test-{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    try:
        _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"{BROKER}/{vhost}"
    finally:
        _ctl("delete_vhost", vhost)


def queue_types(url: str) -> dict[str, str]:
    """The queues of the URL's virtual host and their type (classic, quorum)."""
    vhost = url.rsplit("/", 1)[1]
    listed = _ctl("list_queues", "-p", vhost, "name", "type", "--quiet", "--no-table-headers")
    return dict(line.split("\t")[:2] for line in listed.splitlines() if "\t" in line)


def restart_broker() -> None:
    """Stop RabbitMQ's application (every client is cut off) and start it again."""
    _ctl("stop_app")
    _ctl("start_app")
    _ctl("await_startup")
