"""The sample mailbox end to end through a real Celery worker on real Redis."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli.demo_report import outcome_row
from tests.conftest import Pipeline
from tests.support import SAMPLE_MAILBOX, email_bytes, make_maildir

pytestmark = pytest.mark.integration

EXPECTED = {  # message file -> (status, category, urgency, customer, account)
    "1764000001": ("done", "billing", "high", "Maria Garcia", "ACC10234"),
    "1764000002": ("done", "technical", "high", "Tom Becker", "ACC55821"),
    "1764000003": ("done", "account", "low", "Priya Raman", None),
    "1764000004": ("done", "technical", "medium", "Liam O'Connor", None),
    "1764000005": ("threaded", None, None, None, None),
    "1764000006": ("duplicate", None, None, None, None),
    "1764000007": ("automated", None, None, None, None),
    "1764000008": ("automated", None, None, None, None),
    "1764000009": ("automated", None, None, None, None),
    "1764000010": ("quarantined", None, None, None, None),
    "1764000011": ("done", "billing", "medium", "Sven Lindqvist", "ACC77120"),
    "1764000012": ("done", "account", "high", "Jürgen Müller", None),
    "1764000013": ("done", "technical", "medium", None, None),
    "1764000014": ("done", "other", "medium", "Ana Souza", None),
    "1764000015": ("done", "billing", "medium", "Dale Porter", "ACC40021"),
    "1764000016": ("threaded", None, None, None, None),
}


@pytest.fixture(scope="module")
def sample_rows(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    box = tmp_path_factory.mktemp("sample") / "mailbox"
    shutil.copytree(SAMPLE_MAILBOX, box)
    rows = {}
    for delivery in pipeline.feed(box):
        run = pipeline.wait_final(delivery.run_id) if delivery.run_id else None
        rows[delivery.key.split(".")[0]] = outcome_row(delivery, run) or {}
    return rows


def test_every_sample_message_reaches_its_expected_final_status_and_labels(
    sample_rows: dict[str, dict[str, object]],
) -> None:
    got = {
        key: (r["status"], r["category"], r["urgency"], r["customer_name"], r["account_id"])
        for key, r in sample_rows.items()
    }
    assert got == EXPECTED


def test_replies_comment_on_the_issue_of_the_ticket_they_answer(
    sample_rows: dict[str, dict[str, object]],
) -> None:
    assert sample_rows["1764000005"]["issue_key"] == sample_rows["1764000002"]["issue_key"]
    assert sample_rows["1764000016"]["issue_key"] == sample_rows["1764000003"]["issue_key"]


def test_one_dry_run_issue_per_ticket_and_one_comment_per_reply(
    pipeline: Pipeline, sample_rows: dict[str, dict[str, object]]
) -> None:
    mine = {str(r["issue_key"]) for r in sample_rows.values() if r["issue_key"]}
    lines = [line for line in pipeline.outbox() if line["issue_key"] in mine]
    # The invoice's PDF goes to its issue too.
    assert sorted(line["kind"] for line in lines) == ["attach"] + ["comment"] * 2 + ["create_issue"] * 9
    assert len({line["key"] for line in lines}) == len(lines)


def test_the_prompt_injection_in_an_email_changes_nothing_the_configuration_decides(
    pipeline: Pipeline, sample_rows: dict[str, dict[str, object]]
) -> None:
    key = sample_rows["1764000015"]["issue_key"]
    [line] = [line for line in pipeline.outbox() if line["issue_key"] == key]
    fields = line["request"]["fields"]
    assert fields["project"] == {"key": "SUP"} and fields["priority"] == {"name": "Medium"}
    assert "assignee" not in fields


def test_a_redelivered_mailbox_makes_no_new_tickets(pipeline: Pipeline, tmp_path: Path) -> None:
    raw = email_bytes(message_id="<redeliver-1@example.com>")
    [first] = pipeline.feed(make_maildir(tmp_path / "a", raw))
    pipeline.wait_final(first.run_id or "")
    [again] = pipeline.feed(make_maildir(tmp_path / "b", raw))
    assert again.outcome == "duplicate" and again.run_id is None


def test_a_reply_to_a_reply_threads_to_the_first_ticket(pipeline: Pipeline, tmp_path: Path) -> None:
    root = email_bytes(message_id="<root-7@example.com>")
    reply = email_bytes(message_id="<reply-7@example.com>", headers={"In-Reply-To": "<root-7@example.com>"})
    second = email_bytes(message_id="<reply-8@example.com>", headers={"In-Reply-To": "<reply-7@example.com>"})
    deliveries = pipeline.feed(make_maildir(tmp_path / "box", root, reply, second))
    runs = [pipeline.wait_final(d.run_id or "") for d in deliveries]
    assert [d.outcome for d in deliveries] == ["ticket", "threaded", "threaded"]
    assert runs[1].ticket.thread_of == runs[2].ticket.thread_of == runs[0].id
    assert all(r.status == "done" for r in runs)
