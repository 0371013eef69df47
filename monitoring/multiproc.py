"""Prometheus multiprocess mode set-up. Imports nothing from prometheus-client on purpose: the folder
must be chosen before prometheus-client is first imported, which fixes how every metric stores values."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(path: str | None = None) -> str:
    """Point prometheus-client at a fresh folder for per-process metric files (before it is imported).

    Must run in the parent before any worker process starts: stale files from an earlier run would be
    added to this run's counts.
    """
    folder = Path(path) if path else Path(tempfile.mkdtemp(prefix="triage-metrics-"))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return str(folder)
