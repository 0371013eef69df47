"""Acknowledgements through the real pipeline and a real SMTP server (aiosmtpd, STARTTLS and AUTH):
every new ticket of the sample mailbox gets exactly one, nothing else gets one, and a customer's reply to
an acknowledgement joins their ticket."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import Pipeline
from tests.smtp_server import SmtpServer
from tests.support import email_bytes, make_maildir

pytestmark = pytest.mark.integration


def test_each_new_ticket_gets_one_acknowledgement_and_a_reply_to_it_joins_the_ticket(
    pipeline: Pipeline, smtp: SmtpServer, tmp_path: Path
) -> None:
    runs = pipeline.run_variant_mailbox(tmp_path / "box")
    tickets = [r for r in runs if not r.ticket.thread_of]
    assert len(tickets) == 9 and len(runs) == 11  # the two replies get none
    messages = smtp.messages()
    assert sorted(m["In-Reply-To"] for m in messages) == sorted(f"<{r.ticket.message_id}>" for r in tickets)
    for run in tickets:
        [ack] = [m for m in messages if m["In-Reply-To"] == f"<{run.ticket.message_id}>"]
        issue_key = run.steps["create_issue"].result["issue_key"]  # type: ignore[index]
        assert ack["To"].addresses[0].addr_spec == run.ticket.sender and f"[{issue_key}]" in ack["Subject"]
        assert run.steps["acknowledge"].result["message_id"] == ack["Message-ID"].strip("<>")  # type: ignore[index]

    first = tickets[0]
    [ack] = [m for m in messages if m["In-Reply-To"] == f"<{first.ticket.message_id}>"]
    reply = email_bytes(sender=first.ticket.sender, subject=f"Re: {ack['Subject']}", body="Any news?",
                        message_id=f"<{uuid.uuid4().hex}@example.com>",
                        headers={"In-Reply-To": ack["Message-ID"], "References": ack["Message-ID"]})  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(tmp_path / "reply", reply))
    assert delivery.outcome == "threaded" and delivery.reason == f"reply to ticket {first.ticket.id}"
    assert pipeline.wait_final(delivery.run_id or "").status == "done"
    assert len(smtp.messages()) == len(messages)  # a reply is not acknowledged


def test_a_stranger_replying_to_someone_elses_acknowledgement_gets_a_ticket_of_their_own(
    pipeline: Pipeline, smtp: SmtpServer, tmp_path: Path
) -> None:
    raw = email_bytes(sender="owner@customer.example", message_id=f"<{uuid.uuid4().hex}@example.com>")
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    pipeline.wait_final(delivery.run_id or "")
    [ack] = [m for m in smtp.messages() if m["To"].addresses[0].addr_spec == "owner@customer.example"]
    forged = email_bytes(sender="mallory@elsewhere.example", message_id=f"<{uuid.uuid4().hex}@example.com>",
                         headers={"In-Reply-To": ack["Message-ID"]})  # fmt: skip
    [theirs] = pipeline.feed(make_maildir(tmp_path / "forged", forged))
    assert theirs.outcome == "ticket" and "of another customer" in (theirs.reason or "")


def test_a_german_ticket_is_acknowledged_in_german_and_its_issue_labelled_with_its_language(
    pipeline: Pipeline, smtp: SmtpServer, tmp_path: Path
) -> None:
    raw = email_bytes(sender="Jürgen Müller <juergen@bergwerk.example>", subject="Konto gesperrt",
                      body="Guten Tag, ich kann mich seit gestern nicht mehr anmelden. Bitte helfen Sie mir.",
                      message_id=f"<{uuid.uuid4().hex}@example.com>")  # fmt: skip
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    run = pipeline.wait_final(delivery.run_id or "")
    assert (
        run.ticket.language == "de"
        and "lang-de" in run.steps["create_issue"].result["request"]["fields"]["labels"]
    )  # type: ignore[index]
    [ack] = [m for m in smtp.messages() if m["In-Reply-To"] == f"<{run.ticket.message_id}>"]
    assert ack["Subject"].endswith("Wir haben Ihre Anfrage erhalten: Konto gesperrt")
    assert ack.get_content().startswith("Guten Tag")
