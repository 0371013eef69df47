"""Whether long-term memory is on, and where it may live, for the process that asks.

Memory is on by default wherever it can serve (TRIAGE_MEMORY=auto). A `chroma run` server
(TRIAGE_MEMORY_URL) serves any number of processes on any number of hosts. An embedded Chroma folder is
one process's: prefork children, or workers of several roles or hosts, writing one folder would corrupt
it. So a single `all` worker (no pool given) keeps memory in the folder on a threads pool (one
process), and a worker that may be one of a fleet (a role of its own, or a pool given) runs without
memory, saying in one line that it needs TRIAGE_MEMORY_URL, until it has one. Two single workers on one
host cannot share the folder either: the first holds a lock on it for its life, and the second runs
without memory and says so. TRIAGE_MEMORY=off switches memory off everywhere.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, replace
from typing import Literal

from workers.settings import Settings


def memory_enabled(settings: Settings) -> bool:
    """Whether this process uses memory: on; or auto with a server, or with a folder a worker wrote."""
    if settings.memory == "auto":
        return settings.memory_url is not None or settings.memory_path.is_dir()
    return settings.memory == "on"


@dataclass(frozen=True)
class WorkerMemory:
    """What a starting worker does about memory: its TRIAGE_MEMORY, its pool, and the line it logs."""

    memory: Literal["on", "off"]
    pool: str
    note: str | None = None


def worker_memory(settings: Settings, role: str, pool: str | None, processes: int) -> WorkerMemory:
    """Memory for a worker of `role` on `pool` (None: not given) with `processes` processes or threads."""
    chosen = pool or "prefork"
    if settings.memory == "off":
        return WorkerMemory("off", chosen)
    if settings.memory_url is not None:
        return WorkerMemory("on", chosen)
    folder = settings.memory_path
    if role == "all" and pool is None:
        note = (
            f"memory: the embedded folder {folder}, in one process (a threads pool); "
            "a fleet needs TRIAGE_MEMORY_URL"
        )
        return WorkerMemory("on", "threads", note)
    one_process = chosen != "prefork" or processes == 1
    if role == "all" and one_process and settings.memory == "on":  # asked for, on one process
        return WorkerMemory("on", chosen)
    if role != "all":
        sharers = f"the {role} role (one of a fleet)"
    elif one_process:  # a pool of its own: a deployment's worker, maybe one of several (make chaos runs two)
        sharers = f"a worker given --pool {chosen} (one of a fleet, unless TRIAGE_MEMORY=on)"
    else:
        sharers = f"{processes} prefork processes"
    note = (
        f"memory is off: {sharers} cannot share the embedded folder {folder}; "
        "set TRIAGE_MEMORY_URL to a `chroma run` server (README: Memory)"
    )
    return WorkerMemory("off", chosen, note)


_held: list[int] = []  # the lock files this process holds for its life


def claimed(chosen: WorkerMemory, settings: Settings) -> WorkerMemory:
    """The choice, once this process holds the embedded folder it would use (a lock on a file in it, kept
    while the process lives); memory off with the reason when another process holds it."""
    if chosen.memory == "off" or settings.memory_url is not None:
        return chosen
    folder = settings.memory_path
    folder.mkdir(parents=True, exist_ok=True)
    lock = os.open(folder / ".worker.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        note = (
            f"memory is off: another worker keeps memory in the embedded folder {folder}; "
            "set TRIAGE_MEMORY_URL to a `chroma run` server (README: Memory)"
        )
        return replace(chosen, memory="off", note=note)
    _held.append(lock)
    return chosen
