"""Logs: one JSON object per task transition, with ids and outcome; never a body or a secret."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from monitoring import events
from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir
from tools.llm import Usage
from workers.logs import JsonFormatter, setup_logging


@pytest.fixture
def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    setup_logging("json")
    try:
        events.step_attempted("T1", "T1", "create_issue", "create_jira_issue", 2, "retry", 0.25)
        events.message_ingested("D1", "quarantined", None, "no header fields", "support")
        events.run_finished("T1", "dead_letter", 3.5, "step failed")
        events.llm_used("plan", Usage(calls=1, prompt_tokens=10))
    finally:
        logging.getLogger().handlers.clear()
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_each_transition_is_one_json_object_with_its_ids_and_outcome(
    json_lines: list[dict[str, object]],
) -> None:
    step, ingest, finish = json_lines
    assert step["run"] == "T1" and step["ticket"] == "T1" and step["tool"] == "create_jira_issue"
    assert step["attempt"] == 2 and step["outcome"] == "retry" and step["elapsed"] == "0.250s"
    assert ingest["outcome"] == "quarantined" and ingest["reason"] == "no header fields"
    assert finish["level"] == "warning" and finish["status"] == "dead_letter"


def test_the_json_formatter_keeps_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "triage", logging.ERROR, __file__, 1, "failed", None, exc_info=__import__("sys").exc_info()
        )
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exception"]


@pytest.mark.integration
def test_a_whole_run_logs_no_email_body_subject_or_secret(
    pipeline: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body, subject = "my card number is 4111-SECRET-BODY", "Subject-Should-Stay-Private"
    raw = email_bytes(subject=subject, body=body, message_id="<private-1@example.com>")
    with caplog.at_level(logging.INFO):
        [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
        pipeline.wait_final(delivery.run_id or "")
    text = "\n".join(
        record.getMessage() + json.dumps(getattr(record, "fields", {})) for record in caplog.records
    )
    assert f"run={delivery.run_id}" in text  # the run was logged...
    assert "SECRET-BODY" not in text and subject not in text  # ...without what the customer wrote
