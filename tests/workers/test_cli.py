"""The triage command: start-up errors, reading runs, dead letters and quarantine."""

from __future__ import annotations

import json
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
    document = json.loads(shown.output)  # one JSON document: the delivery and its run
    assert document["delivery"]["message_id"] == "cli-1@example.com"
    assert document["run"]["status"] == "done" and "create_issue" in document["run"]["steps"]
    assert json.loads(runner.invoke(main, ["show", ticket.run_id or ""]).output)["id"] == ticket.run_id

    quarantined = runner.invoke(main, ["quarantine"])
    assert junk.delivery_id in quarantined.output and "no header fields" in quarantined.output

    assert runner.invoke(main, ["dead-letters"]).exit_code == 0
    assert runner.invoke(main, ["show", "nothing-like-this"]).exit_code == 1


def test_version_is_printed_without_reading_the_settings() -> None:
    env = {**os.environ, "TRIAGE_MAX_PLAN_STEPS": "0"}  # invalid, yet --version answers
    done = subprocess.run([TRIAGE, "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("triage, version ")


def test_config_masks_every_secret_including_passwords_in_urls() -> None:
    env = {**os.environ, "TRIAGE_REDIS_URL": "redis://:hunter2@127.0.0.1:6379/3",
           "TRIAGE_JIRA_URL": "https://bot:jirapass@jira.example", "TRIAGE_JIRA_USER": "bot",
           "TRIAGE_JIRA_API_TOKEN": "tok-123", "TRIAGE_LLM_API_KEY": "sk-secret",
           "TRIAGE_LLM_BASE_URL": "http://u:llmpass@127.0.0.1:1/v1"}  # fmt: skip
    done = subprocess.run([TRIAGE, "config"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "TRIAGE_REDIS_URL=redis://:***@127.0.0.1:6379/3" in done.stdout
    for secret in ("hunter2", "jirapass", "tok-123", "sk-secret", "llmpass"):
        assert secret not in done.stdout + done.stderr


def test_ingest_of_a_folder_that_is_not_a_maildir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not mail")
    done = subprocess.run([TRIAGE, "ingest", "--maildir", str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "is not a Maildir (no cur/ or new/ folder)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_an_ingest_worker_without_a_mail_source_says_so(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:

    from workers.app import _say_what_ingest_polls

    _say_what_ingest_polls()
    assert "no mail source is configured (set TRIAGE_MAILDIR or TRIAGE_IMAP_HOST)" in capsys.readouterr().err
