"""Acknowledgements through the real pipeline and a real SMTP server (aiosmtpd, STARTTLS and AUTH):
every new ticket of the sample mailbox gets exactly one, nothing else gets one, and a customer's reply to
an acknowledgement joins their ticket."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Pipeline
from tests.smtp_server import SmtpServer
from tests.support import email_bytes, make_maildir
from workers import runtime as runtime_module

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


MAIL_SERVER = "mx.support.example"


@pytest.mark.parametrize(
    ("results", "answered"),
    [
        (
            [
                f"{MAIL_SERVER}; spf=pass smtp.mailfrom=bergwerk.example; dmarc=pass header.from=bergwerk.example"
            ],
            True,
        ),
        (
            [f"{MAIL_SERVER}; spf=fail smtp.mailfrom=evil.example; dmarc=fail header.from=bergwerk.example"],
            False,
        ),
        (["mx.evil.example; dmarc=pass header.from=bergwerk.example"], False),  # a foreign server's word
    ],
    ids=["pass", "fail", "foreign"],
)
def test_the_trusted_mail_servers_dmarc_verdict_decides_who_is_answered(
    pipeline: Pipeline,
    smtp: SmtpServer,
    swap_runtime: Any,
    tmp_path: Path,
    results: list[str],
    answered: bool,
) -> None:
    rt = runtime_module.runtime()
    swap_runtime(settings=rt.settings.model_copy(update={"trusted_authserv_id": MAIL_SERVER}))
    headers = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    raw = (
        f"{headers}From: Jürgen Müller <juergen@bergwerk.example>\r\nTo: support@example.com\r\n"
        f"Subject: Account locked\r\nMessage-ID: <{uuid.uuid4().hex}@bergwerk.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nI cannot log in since yesterday.\r\n"
    ).encode()
    [delivery] = pipeline.feed(make_maildir(tmp_path / "box", raw))
    run = pipeline.wait_final(delivery.run_id or "")
    sent = [m for m in smtp.messages() if m["In-Reply-To"] == f"<{run.ticket.message_id}>"]
    ack = run.steps["acknowledge"].result or {}
    if answered:
        assert run.ticket.sender_authenticated and len(sent) == 1
        assert sent[0]["To"] == "Jürgen Müller <juergen@bergwerk.example>"
    else:
        assert sent == [] and not ack["sent"] and "not trusted" in ack["skipped"]
        assert "its sender is not trusted" in (delivery.reason or "")
