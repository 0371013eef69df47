"""The triage command: start-up errors, reading runs, dead letters and quarantine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Pipeline
from tests.support import ROOT, TRIAGE, email_bytes, make_maildir
from workers.cli import main


def test_a_configuration_error_stops_the_command_with_the_variable_name() -> None:
    env = {**os.environ, "TRIAGE_MAX_PLAN_STEPS": "0"}
    done = subprocess.run([TRIAGE, "runs"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "TRIAGE_MAX_PLAN_STEPS" in done.stderr


@pytest.mark.parametrize("code", [0, 1])
def test_the_worker_command_exits_with_celerys_code_so_a_supervisor_sees_a_failure(
    monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    from celery.bin.celery import celery as celery_command

    argvs: list[list[str]] = []
    # Celery's worker command returns 1 after an "Unrecoverable error" (its pool could not start, say).
    monkeypatch.setattr(celery_command, "main", lambda args, standalone_mode: argvs.append(args) or code)
    done = CliRunner().invoke(main, ["worker", "--role", "plan", "--pool", "solo"])
    assert done.exit_code == code and argvs[0][:5] == [
        "--app",
        "workers.app:app",
        "worker",
        "--queues",
        "plan",
    ]


@pytest.mark.integration
def test_runs_show_dead_letters_and_quarantine_read_the_run_store(pipeline: Pipeline, tmp_path: Path) -> None:
    good = email_bytes(subject="Cannot log in", message_id="<cli-1@example.com>")
    box = make_maildir(tmp_path / "box", good, b"\x00 not mail at all")
    [ticket, junk] = pipeline.feed(box)
    pipeline.wait_final(ticket.run_id or "")
    runner = CliRunner()

    runs = runner.invoke(main, ["runs", "--limit", "500"])
    assert runs.exit_code == 0 and f"{ticket.run_id}" in runs.output and "Cannot log in" in runs.output

    shown = runner.invoke(main, ["show", "<cli-1@example.com>"])
    assert shown.exit_code == 0 and '"create_issue"' in shown.output and '"status": "done"' in shown.output

    quarantined = runner.invoke(main, ["quarantine"])
    assert junk.delivery_id in quarantined.output and "no header fields" in quarantined.output

    assert runner.invoke(main, ["dead-letters"]).exit_code == 0
    assert runner.invoke(main, ["show", "nothing-like-this"]).exit_code == 1
