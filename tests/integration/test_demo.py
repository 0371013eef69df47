"""`triage demo`: the sample mailbox end to end, independent runs, Redis or an embedded one."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.llm_server import FakeOpenAI, running_openai
from tests.support import ROOT, TRIAGE, email_bytes, make_maildir

pytestmark = pytest.mark.integration

FINAL = {"done", "failed", "dead_letter", "quarantined", "automated", "duplicate", "threaded"}
KEYS = {
    *("message_id", "sender", "subject", "status", "category", "urgency", "customer_name", "account_id"),
    *("issue_key", "files", "files_left_out", "ack", "draft", "thread_of", "incident", "planner", "hold"),
    *("reason", "received_at", "finished_at"),
}


def demo(redis_url: str, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`triage demo` as a newcomer runs it (with these options and settings); it must exit 0."""
    env = {**os.environ, "TRIAGE_REDIS_URL": redis_url, **env}
    done = subprocess.run(
        [TRIAGE, "demo", *options], env=env, capture_output=True, text=True, cwd=ROOT, timeout=240
    )
    assert done.returncode == 0, done.stderr
    return done


def demo_json(redis_url: str, *options: str, **env: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in demo(redis_url, "--json", *options, **env).stdout.splitlines()]


def without_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    varying = ("issue_key", "reason", "received_at", "finished_at")
    return [{k: v for k, v in row.items() if k not in varying} for row in rows]


def test_the_demo_reports_every_sample_message_in_a_final_status_and_twice_the_same(redis_url: str) -> None:
    first, second = demo_json(redis_url), demo_json(redis_url)
    assert len(first) == 16 and all(set(row) == KEYS and row["status"] in FINAL for row in first)
    assert without_keys(first) == without_keys(second)  # issue numbers depend on which step finished first
    assert sum(row["status"] == "done" for row in first) == 9
    assert [row["ack"] for row in first if row["status"] == "done"] == ["sent"] * 9  # to the mail outbox
    assert all(row["ack"] is None for row in first if row["status"] != "done")
    [quarantined] = [row for row in first if row["status"] == "quarantined"]
    assert quarantined["reason"] == "no header fields: not an e-mail message"  # no sender to name
    assert all(row["sender"] and row["subject"] for row in first if row["status"] != "quarantined")
    assert [row["files"] for row in first if row["files"]] == ["1 attached"]  # the invoice's PDF
    for row in first:  # when each came in and when what became of it was final, ISO 8601
        assert datetime.fromisoformat(row["received_at"]) <= datetime.fromisoformat(row["finished_at"])


def test_a_newcomer_sees_memory_drafts_without_a_flag_and_can_switch_it_off(redis_url: str) -> None:
    """No TRIAGE_MEMORY at all, as on a bare clone: memory, the sample knowledge base and drafts are on."""
    env = {k: v for k, v in os.environ.items() if k != "TRIAGE_MEMORY"} | {"TRIAGE_REDIS_URL": redis_url}
    done = subprocess.run([TRIAGE, "demo"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("memory (--no-memory: off)")]
    assert "answers drafted for 5 of 9 tickets; incidents: none" in line
    off = subprocess.run(
        [TRIAGE, "demo", "--no-memory", "--json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
    )
    assert not any(json.loads(row)["draft"] for row in off.stdout.splitlines())


def test_with_memory_the_incident_mailbox_shows_one_problem_issue_per_outage(redis_url: str) -> None:
    rows = demo_json(redis_url, "--maildir", "examples/incidents", "--memory")
    outages = json.loads((ROOT / "examples" / "incidents" / "outages.json").read_text())["outages"]
    found = [(outages[f"<{row['message_id'].strip('<>')}>"], row["incident"]) for row in rows]
    assert len(rows) == 28 and all(row["status"] == "done" for row in rows)
    # Four outages, each with one problem issue of its own; at most one unrelated ticket in any (the
    # n-gram embedder lets one look-alike in where the MiniLM weights are not installed: README, Memory).
    problems = {outage: {key for o, key in found if o == outage and key} for outage, _ in found if outage}
    assert len(problems) == 4 and all(len(keys) == 1 for keys in problems.values())
    assert len(set().union(*problems.values())) == 4
    assert sum(1 for outage, key in found if outage is None and key) <= 1


def test_the_demo_brings_its_own_redis_when_none_answers() -> None:
    rows = demo_json("redis://127.0.0.1:1/0")
    assert len(rows) == 16 and {row["status"] for row in rows} <= FINAL


def test_with_a_model_that_never_answers_each_row_says_why_and_the_demo_fails(
    redis_url: str, tmp_path: Path
) -> None:
    with running_openai(FakeOpenAI()) as fake:  # every request answers 500
        env = {
            **os.environ,
            "TRIAGE_REDIS_URL": redis_url,
            "TRIAGE_LLM_MODEL": "gpt-4o-mini",
            "TRIAGE_LLM_BASE_URL": fake.url,
            "TRIAGE_LLM_MAX_TRANSPORT_RETRIES": "0",
        }
        done = subprocess.run(
            [TRIAGE, "demo", "--json", "--outbox", str(tmp_path / "outbox.jsonl")],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=240,
        )
    assert done.returncode == 1 and "the model planned nothing" in done.stderr
    assert "LLM: 0 plans by the model, 0 repaired, 11 fell back (model unavailable: 11)" in done.stderr
    planned = [json.loads(line) for line in done.stdout.splitlines() if '"planner": "fallback"' in line]
    assert len(planned) == 11  # every ticket and reply fell back, and says why
    assert all(row["reason"].startswith("fallback to rules: model unavailable") for row in planned)


def test_a_held_run_is_reported_with_its_rule_and_the_demo_does_not_wait_for_it(redis_url: str) -> None:
    policy = {"TRIAGE_POLICY_PATH": str(ROOT / "examples" / "policy.yaml")}
    rows = demo_json(redis_url, **policy)
    [held] = [row for row in rows if row["status"] == "held"]
    assert held["hold"] == "supervised by urgent-billing" and held["issue_key"] is None
    assert (held["category"], held["urgency"]) == ("billing", "high")
    assert held["ack"] == "not sent: waiting for a person's decision"
    table = demo(redis_url, **policy).stdout
    assert all(len(line) <= 100 for line in table.splitlines())
    [line] = [line for line in table.splitlines() if " held " in line]
    assert "rule urgent-billing" in line and "1 held" in table


def test_spam_and_quarantined_mail_with_headers_are_final_and_name_their_sender(
    redis_url: str, tmp_path: Path
) -> None:
    spam = email_bytes(
        message_id="<spam-1@bulk.example>",
        subject="WIN NOW",
        body="Click.",
        sender="promo@bulk.example",
        headers={"X-Spam-Flag": "YES"},
    )
    huge = email_bytes(
        message_id="<huge-1@example.com>",
        subject="Logs attached",
        body="x" * 300_000,
        sender="ops@example.com",
    )
    box = make_maildir(tmp_path / "box", spam, huge)
    rows = demo_json(redis_url, "--maildir", str(box), TRIAGE_MAX_MESSAGE_BYTES="200000")
    by_status = {row["status"]: row for row in rows}
    assert set(by_status) == {"spam", "quarantined"}
    assert by_status["spam"]["sender"] == "promo@bulk.example"
    assert (by_status["quarantined"]["sender"], by_status["quarantined"]["message_id"]) == (
        "ops@example.com",
        "huge-1@example.com",
    )
