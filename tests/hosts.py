"""Hosts for the fleet's tests: Linux network namespaces the test makes, each with an address of its own
on a bridge; the services (Redis, Jira, SMTP) listen on the bridge's own address, in the test's
namespace (the "services host"). A host is killed the way a machine dies: every process in it at once
(SIGKILL), and its link down. Needs root and iproute2; everything made is removed after."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

# The address prefixes ("10.x.y.") of the bridges the tests made and have not removed yet: as local as
# loopback (tests/conftest.py lets a test reach them, and nothing beyond).
TEST_BRIDGES: set[str] = set()


def can_make_hosts() -> str | None:
    """Why network namespaces cannot be made here (not root, no `ip`), or None when they can."""
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    return None


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass(frozen=True)
class Hosts:
    """`count` hosts on one bridge: host i is namespace `names[i]` at `address(i)`."""

    tag: str
    count: int
    prefix: str  # the first three octets of the bridge's /24

    @property
    def services(self) -> str:
        """The services host's address (the bridge's): what the hosts' workers connect to."""
        return f"{self.prefix}.1"

    def name(self, i: int) -> str:
        """Host i's namespace."""
        return f"triage-{self.tag}-h{i}"

    def address(self, i: int) -> str:
        """Host i's address on the bridge."""
        return f"{self.prefix}.{11 + i}"

    def _link(self, i: int) -> str:
        return f"trv{self.tag}{i}"  # the host's cable, on the bridge's side (at most 15 characters)

    def start(
        self, i: int, command: Sequence[str], env: dict[str, str], log: Path, cwd: Path
    ) -> subprocess.Popen[bytes]:
        """Run a command on host i, its output in `log`."""
        with open(log, "ab") as out:
            return subprocess.Popen(
                ["ip", "netns", "exec", self.name(i), *command],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
            )

    def pids(self, i: int) -> list[int]:
        """Every process living in host i."""
        found = subprocess.run(["ip", "netns", "pids", self.name(i)], capture_output=True, text=True).stdout
        return [int(p) for p in found.split()]

    def kill(self, i: int) -> int:
        """Kill host i the way a machine dies: every process in it at once, then its link down. How many
        processes died."""
        pids = self.pids(i)
        _kill_all(pids)
        _ip("link", "set", self._link(i), "down")
        return len(pids)


@contextmanager
def made_hosts(count: int) -> Iterator[Hosts]:
    """Make `count` hosts and their bridge; remove them, and kill what still runs in them, after."""
    tag = uuid.uuid4().hex[:4]
    octets = int(tag, 16)
    hosts = Hosts(tag, count, f"10.{200 + octets % 50}.{octets // 50 % 250}")
    bridge = f"trb{tag}"
    TEST_BRIDGES.add(f"{hosts.prefix}.")
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{hosts.services}/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for i in range(count):
            ns, outside, inside = hosts.name(i), hosts._link(i), f"trp{tag}{i}"
            _ip("netns", "add", ns)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", ns)
            _ip("link", "set", outside, "master", bridge)
            _ip("link", "set", outside, "up")
            _ip("-n", ns, "addr", "add", f"{hosts.address(i)}/24", "dev", inside)
            _ip("-n", ns, "link", "set", inside, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield hosts
    finally:
        for i in range(count):
            if os.path.exists(f"/run/netns/{hosts.name(i)}"):
                _kill_all(hosts.pids(i))
            subprocess.run(["ip", "netns", "del", hosts.name(i)], capture_output=True)
            subprocess.run(["ip", "link", "del", hosts._link(i)], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        TEST_BRIDGES.discard(f"{hosts.prefix}.")
