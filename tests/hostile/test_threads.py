"""Threads belong to their customer: a leaked Message-ID lets no stranger write into another customer's
ticket, take it over, or make a customer's mail vanish as a 'duplicate'."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import Pipeline
from tests.support import email_bytes, make_maildir

pytestmark = pytest.mark.integration


def ids() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"<victim-{tag}@customer.example>", f"<reply-{tag}@customer.example>"


def test_a_strangers_reply_to_a_leaked_message_id_is_a_ticket_of_its_own(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    victim_id, _ = ids()
    victim = email_bytes(sender="Vera Victim <vera@customer.example>", message_id=victim_id, subject="Refund")
    stranger = email_bytes(sender="Mallory <mallory@evil.example>", message_id=f"<m-{uuid.uuid4().hex}@evil.example>",
                           subject="Re: Refund", body="Send the refund to IBAN XX00 instead.",
                           headers={"In-Reply-To": victim_id, "References": victim_id})  # fmt: skip
    first, second = pipeline.feed(make_maildir(tmp_path / "box", victim, stranger))
    assert first.outcome == "ticket"
    assert second.outcome == "ticket" and second.run_id != first.run_id
    assert (
        second.reason and "claims to reply to ticket" in second.reason and "another customer" in second.reason
    )
    run = pipeline.wait_final(second.run_id or "")
    assert run.ticket.thread_of is None and "create_issue" in run.steps  # its own issue, no comment on Vera's


def test_a_forged_from_of_the_customer_still_joins_only_by_address(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    # The rule is the address: a forged From of the very address is what SPF/DKIM at the MTA must stop.
    victim_id, reply_id = ids()
    victim = email_bytes(sender="Vera <vera@customer.example>", message_id=victim_id)
    colleague = email_bytes(sender="Carl <carl@customer.example>", message_id=reply_id,
                            headers={"In-Reply-To": victim_id})  # fmt: skip
    [_, reply] = pipeline.feed(make_maildir(tmp_path / "box", victim, colleague))
    assert reply.outcome == "ticket"  # same domain, other address: not the thread's customer by default


def test_a_message_id_taken_first_by_a_stranger_does_not_make_the_customers_mail_a_duplicate(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    victim_id, _ = ids()
    squatter = email_bytes(sender="Mallory <mallory@evil.example>", message_id=victim_id, subject="hi")
    victim = email_bytes(
        sender="Vera <vera@customer.example>", message_id=victim_id, subject="My invoice is wrong"
    )
    first, second = pipeline.feed(make_maildir(tmp_path / "box", squatter, victim))
    assert first.outcome == "ticket" and second.outcome == "ticket" and second.run_id != first.run_id
    assert second.reason and "first used by" in second.reason
    assert pipeline.wait_final(second.run_id or "").ticket.sender == "vera@customer.example"


def test_the_same_message_delivered_twice_is_still_a_duplicate(pipeline: Pipeline, tmp_path: Path) -> None:
    victim_id, _ = ids()
    raw = email_bytes(sender="Vera <vera@customer.example>", message_id=victim_id)
    first = pipeline.feed(make_maildir(tmp_path / "a", raw))
    again = pipeline.feed(make_maildir(tmp_path / "b", raw))
    assert first[0].outcome == "ticket" and again[0].outcome == "duplicate"


def test_the_customers_own_reply_still_threads(pipeline: Pipeline, tmp_path: Path) -> None:
    victim_id, reply_id = ids()
    victim = email_bytes(sender="Vera <vera@customer.example>", message_id=victim_id)
    reply = email_bytes(sender="Vera Victim <VERA@customer.example>", message_id=reply_id, subject="Re: hi",
                        headers={"In-Reply-To": victim_id})  # fmt: skip
    first, second = pipeline.feed(make_maildir(tmp_path / "box", victim, reply))
    assert second.outcome == "threaded" and second.reason == f"reply to ticket {first.run_id}"


@pytest.mark.parametrize(
    "from_header",
    [
        "=?utf-8?b?dmVyYUBjdXN0b21lci5leGFtcGxl?= <mallory@evil.example>",  # the name is vera's address
        "vera@customer.example <mallory@evil.example>",
        "vera@customer.example, mallory@evil.example",
    ],
)
def test_a_from_that_poses_as_the_customer_never_joins_their_thread(
    pipeline: Pipeline, tmp_path: Path, from_header: str
) -> None:
    victim_id, reply_id = ids()
    victim = email_bytes(sender="Vera <vera@customer.example>", message_id=victim_id, subject="Refund")
    forged = (
        f"From: {from_header}\r\nTo: support@example.com\r\nSubject: Re: Refund\r\n"
        f"Message-ID: {reply_id}\r\nIn-Reply-To: {victim_id}\r\nReferences: {victim_id}\r\n\r\n"
        "Please send the refund to IBAN XX00 0000 instead.\r\n"
    ).encode()
    first, second = pipeline.feed(make_maildir(tmp_path / "box", victim, forged))
    assert second.outcome == "ticket" and second.run_id != first.run_id
    assert "its sender is not trusted" in (second.reason or "")
    run = pipeline.wait_final(second.run_id or "")
    assert run.ticket.thread_of is None and run.ticket.sender_doubt
    assert run.steps["acknowledge"].result["skipped"].startswith("the sender is not trusted")  # type: ignore[index]
