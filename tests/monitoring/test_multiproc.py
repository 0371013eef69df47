"""The prometheus multiprocess folder: each worker its own, inside TRIAGE_METRICS_DIR, touching nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.multiproc import MULTIPROC_ENV, prepare_multiprocess_dir


def test_a_worker_gets_a_folder_of_its_own_and_leaves_other_files_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    (tmp_path / "notes.txt").write_text("an operator's file")
    first = Path(prepare_multiprocess_dir(str(tmp_path)))
    second = Path(prepare_multiprocess_dir(str(tmp_path)))
    assert first != second and first.parent == second.parent == tmp_path
    assert (tmp_path / "notes.txt").read_text() == "an operator's file"
    assert os.environ[MULTIPROC_ENV] == str(second)


def test_a_missing_folder_is_made_and_a_dead_workers_folder_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "metrics"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = target / f"triage-metrics-{dead.stdout.strip()}-abc"
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"old counts")
    # A process that exits removes its own folder; the dead one's is swept on the way.
    code = f"from monitoring.multiproc import prepare_multiprocess_dir as p; print(p({str(target)!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()).parent == target
    assert list(target.iterdir()) == []
