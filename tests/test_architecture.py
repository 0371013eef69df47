"""The shape of the code: what importing does, and which way the imports point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_MODULES = ["tasks.ingest", "tasks.plan", "tasks.execute", "tasks.sweep"]


def test_importing_the_tasks_reads_no_setting_and_connects_to_nothing() -> None:
    """Configuration happens at worker start and in the CLI, never at import: with an unreachable Redis
    and a setting that cannot be parsed, every task module still imports, and nothing has been built."""
    probe = (
        f"import {', '.join(TASK_MODULES)}\n"
        "from workers import app, runtime\n"
        "print(app.app.configured, runtime._current is not None)\n"
    )
    env = {**os.environ, "TRIAGE_REDIS_URL": "redis://10.255.255.1:1/0", "TRIAGE_TOOL_TIMEOUTS": "not json"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]  # Celery's configuration and the runtime: both unbuilt
