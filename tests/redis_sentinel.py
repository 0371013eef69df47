"""A Redis master, its replica and three Sentinels watching them (real `redis-server` processes, the
Sentinels as `redis-server --sentinel`, on free loopback ports), for the failover tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support import free_port, require_program, wait_for

MASTER = "triage"


@dataclass
class Sentinels:
    """The running set: ports, and the processes by role."""

    master_port: int
    replica_port: int
    sentinel_ports: list[int]
    processes: dict[str, subprocess.Popen[bytes]]

    @property
    def addresses(self) -> list[str]:
        """host:port of each Sentinel (TRIAGE_REDIS_SENTINELS)."""
        return [f"127.0.0.1:{port}" for port in self.sentinel_ports]

    def master(self) -> int:
        """The port of the master the Sentinels name now."""
        answer = redis.Redis(port=self.sentinel_ports[0]).sentinel_get_master_addr_by_name(MASTER)
        return int(answer[1])

    def kill_master(self) -> None:
        """The master's host dies: SIGKILL, nothing written after that reaches anyone."""
        self.processes["master"].kill()
        self.processes["master"].wait(10)


def _server(binary: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([binary, *args], stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def running_sentinels(tmp: Path) -> Iterator[Sentinels]:
    """Start a master, a replica of it and three Sentinels (quorum 2, a master is down after 1 s
    without answers); stop them all at the end."""
    binary = require_program("redis-server", "redis-server")
    master, replica = free_port(), free_port()
    sentinels = [free_port() for _ in range(3)]
    plain = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no")
    processes = {
        "master": _server(binary, tmp / "master.log", "--port", str(master), *plain),
        "replica": _server(
            binary,
            tmp / "replica.log",
            "--port",
            str(replica),
            *plain,
            "--replicaof",
            "127.0.0.1",
            str(master),
        ),
    }
    try:
        wait_for(
            lambda: redis.Redis(port=replica).info("replication").get("master_link_status") == "up" or None,
            30,
            "the replica to follow the master",
        )
        for n, port in enumerate(sentinels):
            conf = tmp / f"sentinel-{n}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {tmp}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {master} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            processes[f"sentinel-{n}"] = _server(binary, tmp / f"sentinel-{n}.log", str(conf), "--sentinel")

        def aware() -> bool | None:
            ask = redis.Redis(port=sentinels[0])
            try:
                return (
                    len(ask.sentinel_slaves(MASTER)) == 1 and len(ask.sentinel_sentinels(MASTER)) == 2
                ) or None
            except redis.RedisError:
                return None

        wait_for(aware, 30, "the Sentinels to know the replica and each other")
        yield Sentinels(master, replica, sentinels, processes)
    finally:
        for process in processes.values():
            process.kill()
        for process in processes.values():
            process.wait(10)
