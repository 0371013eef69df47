"""What `make chaos` breaks besides the workers: the state store (one Redis restarted from its append-only
file, or the master a set of Sentinels watch killed, so that its replica takes over) and the broker (that
same Redis, or RabbitMQ restarted: every connection cut, the quorum queues kept)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.sentinel import Sentinel

from tests.rabbitmq import private_vhost, rabbitmq_absent, restart_broker
from tests.redis_sentinel import MASTER, running_sentinels
from workers.embedded_redis import redis_answers, redis_server_binary
from workers.servers import free_port


class PrivateRedis:
    """A redis-server with append-only persistence on its own port, restartable with its data."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.folder, self.port, self.options = folder, free_port(), options
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", *self.options]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not redis_answers(self.url):
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SHUTDOWN: the append-only file is flushed
            self.process.wait(timeout=30)


@dataclass(frozen=True)
class Breakable:
    """A service the fleet depends on: the settings that point the workers at it, how the harness reads
    the state through it (None: it holds no state), and how to break it once (what happened)."""

    name: str
    env: dict[str, str]
    client: redis.Redis | None
    break_it: Callable[[], str]


@contextmanager
def state_store(kind: str, work: Path) -> Iterator[Breakable]:
    """The Redis of the run store: `plain` (one, with an append-only file), or `sentinel` (a master, its
    replica and three Sentinels)."""
    if kind == "plain":
        server = PrivateRedis(work)
        server.start()

        def restart() -> str:
            server.stop()
            time.sleep(1)
            server.start()
            return "Redis restarted from its append-only file"

        try:
            yield Breakable(
                "Redis", {"TRIAGE_REDIS_URL": server.url}, redis.Redis.from_url(server.url), restart
            )
        finally:
            server.stop()
        return
    with running_sentinels(work) as group:

        def fail_over() -> str:
            group.kill_master()
            return "master killed, the Sentinels promote its replica"

        client = Sentinel([("127.0.0.1", p) for p in group.sentinel_ports]).master_for(MASTER)
        env = {
            "TRIAGE_REDIS_URL": "redis://sentinel/0",
            "TRIAGE_REDIS_SENTINELS": str(group.addresses).replace("'", '"'),
            "TRIAGE_REDIS_SENTINEL_MASTER": MASTER,
        }
        yield Breakable("Redis (Sentinel)", env, client, fail_over)


@contextmanager
def message_broker(kind: str) -> Iterator[Breakable | None]:
    """RabbitMQ on a virtual host of its own (`rabbitmq`), or None: the state store is the broker too."""
    if kind == "redis":
        yield None
        return
    if (why := rabbitmq_absent()) is not None:
        raise SystemExit(f"chaos --broker rabbitmq: {why}")
    with private_vhost() as url:

        def restart() -> str:
            restart_broker()
            return "RabbitMQ restarted"

        yield Breakable("RabbitMQ", {"TRIAGE_BROKER_URL": url}, None, restart)
