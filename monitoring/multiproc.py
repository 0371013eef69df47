"""Prometheus multiprocess mode set-up. Imports nothing from prometheus-client on purpose: the folder
must be chosen before prometheus-client is first imported, which fixes how every metric stores values."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_PREFIX = "triage-metrics-"  # every folder this module makes is named so; nothing else is ever removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _remove_stale(parent: Path) -> None:
    """Remove our folders left behind by processes that are gone (a crash skips the exit hook)."""
    for folder in parent.glob(f"{_PREFIX}*-*"):
        pid = folder.name[len(_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def prepare_multiprocess_dir(parent: str | None = None) -> str:
    """Point prometheus-client at a fresh folder of this process's own for per-process metric files.

    The folder is made inside `parent` (TRIAGE_METRICS_DIR; the system's temp folder by default), named
    after this process, and removed when it exits: two workers on one host never share or wipe each
    other's files, and whatever else lies in `parent` is left alone. Must run in the worker's parent
    process before any pool process starts.
    """
    base = Path(parent) if parent else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    _remove_stale(base)
    folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=base))
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # forked pool processes inherit the hook; only the owner removes
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    os.environ[MULTIPROC_ENV] = str(folder)
    return str(folder)
