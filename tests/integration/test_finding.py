"""Finding anything, through the real ingest path and workers: every mail, whatever it became (a ticket,
a reply, an out-of-office, spam, quarantine), is found by Message-ID, sender, subject words, issue key and
date, from `triage show`, `triage deliveries` and `triage runs`, each list also as JSON."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir, triage

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def lines(*args: str) -> list[dict[str, Any]]:
    """A --json command's objects."""
    done = triage(*args, "--json")
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.output.splitlines() if line.startswith("{")]


@pytest.fixture
def mailbox(pipeline: Pipeline, tmp_path: Path) -> dict[str, Any]:
    """One of each kind of mail from senders of this test only; what each became."""
    tag = uuid.uuid4().hex[:8]
    ticket = email_bytes(
        message_id=f"<t-{tag}@acme.example>",
        subject=f"Export broken {tag}",
        body="The CSV export is empty.",
        sender=f"Ann Lee <ann-{tag}@acme.example>",
    )
    away = email_bytes(
        message_id=f"<a-{tag}@acme.example>",
        subject=f"Out of office {tag}",
        body="Back Monday.",
        sender=f"bob-{tag}@acme.example",
        headers={"Auto-Submitted": "auto-replied"},
    )
    spam = email_bytes(
        message_id=f"<s-{tag}@bulk.example>",
        subject=f"WIN {tag}",
        body="Click here.",
        sender=f"promo-{tag}@bulk.example",
        headers={"X-Spam-Flag": "YES"},
    )
    broken = (
        f"From: eve-{tag}@odd.example\nSubject: broken {tag}\nMessage-ID: <q-{tag}@odd.example>\n".encode()
    )
    broken += b"From:\n\nno usable sender"  # two From fields, the second empty
    delivered = pipeline.feed(make_maildir(tmp_path / "box", ticket, away, spam, broken))
    run = pipeline.wait_final(delivered[0].run_id or "")
    key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
    reply = email_bytes(
        message_id=f"<r-{tag}@acme.example>",
        subject=f"Re: [{key}] Export broken {tag}",
        body="Still empty.",
        sender=f"ann-{tag}@acme.example",
    )
    [threaded] = pipeline.feed(make_maildir(tmp_path / "reply", reply))
    pipeline.wait_final(threaded.run_id or "")
    return {"tag": tag, "key": key, "run": run, "deliveries": [*delivered, threaded]}


def test_every_mail_is_found_by_sender_subject_outcome_issue_and_date(mailbox: dict[str, Any]) -> None:
    tag, key = mailbox["tag"], mailbox["key"]
    outcomes = {d.outcome for d in mailbox["deliveries"]}
    assert outcomes >= {"ticket", "automated", "spam", "threaded"}, outcomes
    by_domain = lines("deliveries", "--sender", "acme.example", "--subject", tag)
    assert {d["outcome"] for d in by_domain} == {"ticket", "automated", "threaded"}
    assert all(d["sender"].endswith(f"{tag}@acme.example") for d in by_domain)
    [spam] = lines("deliveries", "--outcome", "spam", "--sender", f"promo-{tag}")
    assert spam["subject"] == f"WIN {tag}"
    [away] = lines("deliveries", "--subject", f"office {tag}")
    assert away["outcome"] == "automated" and away["sender"] == f"bob-{tag}@acme.example"
    on_issue = lines("deliveries", "--issue", key)
    assert sorted(d["outcome"] for d in on_issue) == ["threaded", "ticket"]
    assert (
        lines(
            "deliveries",
            "--subject",
            tag,
            "--since",
            (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
        )
        == []
    )
    today = lines("deliveries", "--subject", tag, "--since", datetime.now(UTC).date().isoformat())
    assert len(today) == len(mailbox["deliveries"])


def test_show_finds_a_mail_by_message_id_sender_subject_words_or_issue_key(mailbox: dict[str, Any]) -> None:
    tag, key, run = mailbox["tag"], mailbox["key"], mailbox["run"]
    by_id = json.loads(triage("show", f"<a-{tag}@acme.example>").output)
    assert by_id["delivery"]["outcome"] == "automated" and by_id["run"] is None
    by_sender = json.loads(triage("show", f"promo-{tag}@bulk.example").output)
    assert by_sender["delivery"]["outcome"] == "spam"
    by_words = json.loads(triage("show", f"office {tag}").output)
    assert by_words["delivery"]["sender"] == f"bob-{tag}@acme.example"
    by_issue = json.loads(triage("show", key.lower()).output)
    assert by_issue["issue_key"] == key and by_issue["runs"][0]["id"] == run.id and len(by_issue["runs"]) == 2
    several = triage("show", tag)
    assert several.exit_code == 0 and "mails match" in several.output
    nothing = triage("show", f"nothing-{tag}")
    assert nothing.exit_code == 1 and "no run, mail, issue, sender or subject matches" in nothing.output


def test_runs_list_and_search_by_issue_key_with_issue_urgency_and_customer(mailbox: dict[str, Any]) -> None:
    key, run = mailbox["key"], mailbox["run"]
    replied, opened = lines("runs", "--issue", key)  # newest first
    assert (opened["run_id"], opened["issue_key"], opened["urgency"], opened["customer"]) == (
        run.id,
        key,
        "medium",
        "Ann Lee",
    )
    assert replied["thread_of"] == run.id and replied["issue_key"] == key
    plain = triage("runs", "--issue", key).output
    assert key in plain and "medium" in plain and "Ann Lee" in plain


def test_quarantine_and_dead_letters_name_sender_and_subject(mailbox: dict[str, Any]) -> None:
    tag = mailbox["tag"]
    held = [d for d in lines("quarantine") if tag in (d["subject"] or "")]
    assert {d["outcome"] for d in held} >= {"spam"}
    assert all(d["sender"] for d in held)
    assert f"promo-{tag}@bulk.example" in triage("quarantine").output
    assert all("sender" in r and "subject" in r for r in lines("dead-letters"))
