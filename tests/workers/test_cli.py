"""The triage command: start-up errors, reading runs, dead letters and quarantine."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Pipeline
from tests.support import ROOT, TRIAGE, email_bytes, make_maildir, triage


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
    done = triage("worker", "--role", "plan", "--pool", "solo")
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
    runs = triage("runs", "--limit", "500")
    assert runs.exit_code == 0 and f"{ticket.run_id}" in runs.output and "Cannot log in" in runs.output

    shown = triage("show", "<cli-1@example.com>")
    document = json.loads(shown.output)  # one JSON document: the delivery and its run
    assert document["delivery"]["message_id"] == "cli-1@example.com"
    assert document["run"]["status"] == "done" and "create_issue" in document["run"]["steps"]
    assert json.loads(triage("show", ticket.run_id or "").output)["id"] == ticket.run_id

    quarantined = triage("quarantine")
    assert junk.delivery_id in quarantined.output and "no header fields" in quarantined.output

    assert triage("dead-letters").exit_code == 0
    assert triage("show", "nothing-like-this").exit_code == 1


def test_version_is_printed_without_reading_the_settings() -> None:
    env = {**os.environ, "TRIAGE_MAX_PLAN_STEPS": "0"}  # invalid, yet --version answers
    done = subprocess.run([TRIAGE, "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("triage, version ")


def test_config_masks_every_secret_including_passwords_in_urls_and_their_queries() -> None:
    env = {
        **os.environ,
        "TRIAGE_REDIS_URL": "redis://:hunter2@127.0.0.1:6379/3",
        "TRIAGE_JIRA_URL": "https://bot:jirapass@jira.example",
        "TRIAGE_JIRA_USER": "bot",
        "TRIAGE_JIRA_API_TOKEN": "tok-123",
        "TRIAGE_LLM_API_KEY": "sk-secret",
        "TRIAGE_LLM_BASE_URL": "http://127.0.0.1:1/v1?api_key=llmkey&Token=llmtoken",
        "TRIAGE_MEMORY_URL": "http://chroma.internal:8000/?password=chromapass",
    }
    done = subprocess.run([TRIAGE, "config"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "TRIAGE_REDIS_URL=redis://:***@127.0.0.1:6379/3" in done.stdout
    assert "TRIAGE_LLM_BASE_URL=http://127.0.0.1:1/v1?api_key=***&Token=***" in done.stdout
    for secret in ("hunter2", "jirapass", "tok-123", "sk-secret", "llmkey", "llmtoken", "chromapass"):
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
    assert (
        "no mail source is configured (set TRIAGE_MAILDIR, TRIAGE_IMAP_HOST or TRIAGE_MAILBOXES_PATH)"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(("setting", "says"), [
    ("TRIAGE_JIRA_PRIORITIES={bad json", "TRIAGE_JIRA_PRIORITIES: not valid JSON"),
    ("TRIAGE_REDIS_URL=localhost:6379", "TRIAGE_REDIS_URL: Value error, Redis URL must specify one of"),
    ("TRIAGE_RUN_LINK_TEMPLATE=https://runs.example/{run}", "TRIAGE_RUN_LINK_TEMPLATE: Value error, only the field {run_id}"),
    ('TRIAGE_JIRA_LABELS=["needs triage"]', "TRIAGE_JIRA_LABELS: Value error, Jira labels cannot be empty or contain spaces"),
])  # fmt: skip
def test_a_setting_that_would_fail_every_ticket_is_refused_at_start_naming_it(
    setting: str, says: str
) -> None:
    name, _, value = setting.partition("=")
    done = subprocess.run([TRIAGE, "runs"], env={**os.environ, name: value}, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_redis_ends_any_command_with_its_address_not_a_traceback() -> None:
    env = {**os.environ, "TRIAGE_REDIS_URL": "redis://:pw@127.0.0.1:1/0?password=querypw"}
    for command in (["runs"], ["dead-letters"], ["show", "T1"], ["quarantine"]):
        done = subprocess.run(
            [TRIAGE, *command], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert done.returncode == 2, (command, done.stderr)
        assert (
            "cannot reach Redis at redis://:***@127.0.0.1:1/0?password=*** (TRIAGE_REDIS_URL)" in done.stderr
        )
        assert "Traceback" not in done.stderr and "pw@" not in done.stderr and "querypw" not in done.stderr


def test_an_unreachable_jira_is_named_with_its_url() -> None:
    env = {**os.environ, "TRIAGE_JIRA_URL": "http://127.0.0.1:1", "TRIAGE_JIRA_USER": "bot",
           "TRIAGE_JIRA_API_TOKEN": "tok", "TRIAGE_JIRA_TIMEOUT_S": "2"}  # fmt: skip
    done = subprocess.run(
        [TRIAGE, "jira", "check"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 2 and "cannot reach Jira at http://127.0.0.1:1 (TRIAGE_JIRA_URL)" in done.stderr


def test_bad_arguments_get_a_usage_error_or_a_failing_exit() -> None:
    runs = triage("runs", "--limit", "-5")
    assert runs.exit_code == 2 and "-5 is not in the range" in runs.output


@pytest.mark.integration
def test_retry_of_an_unknown_run_fails(pipeline: Pipeline) -> None:
    done = triage("retry", "TNOSUCHRUN")
    assert done.exit_code == 1 and "TNOSUCHRUN is not in the dead-letter list" in done.output
