"""Starting a helper server process (the embedded Redis, the local LLM) and waiting until it serves."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    process: subprocess.Popen[bytes], serving: Callable[[], bool], timeout_s: float, interval_s: float,
    failure: Callable[[], str],
) -> None:  # fmt: skip
    """Poll serving() until it is true; RuntimeError(failure()) if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not serving():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure())
        time.sleep(interval_s)
