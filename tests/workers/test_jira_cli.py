"""`triage jira check` and the worker's start-up check, against a Jira-compatible server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jira_server import FakeJira, running_jira
from tests.support import ROOT, TRIAGE


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with running_jira() as server:
        yield server


def triage(jira: FakeJira, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "TRIAGE_JIRA_URL": jira.url, "TRIAGE_JIRA_USER": jira.user,
               "TRIAGE_JIRA_API_TOKEN": jira.token, "TRIAGE_NAMESPACE": "jira-cli-test", **env}  # fmt: skip
    return subprocess.run([TRIAGE, *args], env=environ, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_check_confirms_a_valid_configuration(jira: FakeJira) -> None:
    done = triage(jira, "jira", "check")
    assert done.returncode == 0 and "are all valid" in done.stdout


def test_check_prints_every_problem_and_fails(jira: FakeJira) -> None:
    done = triage(jira, "jira", "check", TRIAGE_JIRA_ISSUE_TYPE="Incident",
                  TRIAGE_JIRA_PRIORITIES='{"low": "Trivial", "medium": "Medium", "high": "Blocker"}')  # fmt: skip
    assert done.returncode == 1
    assert "TRIAGE_JIRA_ISSUE_TYPE: 'Incident'" in done.stdout
    assert "low -> 'Trivial'" in done.stdout and "high -> 'Blocker'" in done.stdout


def test_a_worker_refuses_to_start_with_a_priority_jira_does_not_have(jira: FakeJira) -> None:
    done = triage(
        jira,
        "worker",
        "--role",
        "execute",
        TRIAGE_JIRA_PRIORITIES='{"low": "Low", "medium": "Normal", "high": "High"}',
    )
    assert done.returncode == 2 and "TRIAGE_JIRA_PRIORITIES: medium -> 'Normal'" in done.stderr


def test_the_token_is_required_with_the_url_and_never_printed(jira: FakeJira) -> None:
    missing = triage(jira, "jira", "check", TRIAGE_JIRA_API_TOKEN="")
    assert (
        missing.returncode == 2
        and "TRIAGE_JIRA_URL is set, so TRIAGE_JIRA_API_TOKEN must be too" in missing.stderr
    )
    shown = triage(jira, "jira", "check", TRIAGE_JIRA_API_TOKEN="not-the-token")
    assert shown.returncode == 1 and "refused the credentials (401)" in shown.stdout
    assert "not-the-token" not in shown.stdout + shown.stderr


def test_celerys_own_worker_command_refuses_a_wrong_issue_type_too(jira: FakeJira) -> None:
    celery = str(Path(sys.executable).parent / "celery")
    env = {**os.environ, "TRIAGE_JIRA_URL": jira.url, "TRIAGE_JIRA_USER": jira.user, "TRIAGE_JIRA_API_TOKEN": jira.token,
           "TRIAGE_NAMESPACE": "jira-cli-test", "TRIAGE_JIRA_ISSUE_TYPE": "Epic"}  # fmt: skip
    done = subprocess.run([celery, "-A", "workers.app", "worker", "-Q", "execute"], env=env, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "TRIAGE_JIRA_ISSUE_TYPE: 'Epic'" in done.stderr
