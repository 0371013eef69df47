"""MIME parsing: every corpus message parses or is quarantined with a reason; fields decode correctly."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.addresses import address_in, copied
from inbox.parse import Incoming, Unparseable, parse_message
from tests.support import CORPORA, SAMPLE_MAILBOX, email_bytes, needs_corpora

MIME_CORPUS = sorted(
    p
    for folder in CORPORA.glob("mime-*")
    for p in folder.rglob("*")
    if p.is_file() and "LICENSE" not in p.name
)
SPAMSCOPE = CORPORA / "mime-spamscope-mailparser" / "tests" / "mails"


def parse(raw: bytes, max_bytes: int = 2_000_000) -> Incoming:
    return parse_message(raw, max_bytes=max_bytes)


@needs_corpora
def test_the_mime_corpora_are_present() -> None:
    assert len(MIME_CORPUS) >= 60


@needs_corpora
@pytest.mark.parametrize("path", MIME_CORPUS, ids=lambda p: p.name)
def test_every_corpus_message_parses_or_is_quarantined_with_a_reason(path: Path) -> None:
    raw = path.read_bytes()
    try:
        incoming = parse(raw)
    except Unparseable as exc:
        assert exc.reason  # quarantined, never a crash
        return
    ticket = incoming.ticket
    assert ticket.message_id and ticket.id.startswith("T")
    assert "@" in ticket.sender or incoming.automated
    assert isinstance(ticket.body, str) and isinstance(ticket.subject, str)


@needs_corpora
def test_rfc2047_subjects_and_senders_are_decoded() -> None:
    gb2312 = parse((SPAMSCOPE / "mail_test_9").read_bytes()).ticket
    assert gb2312.subject.startswith("我把镜头拉近些")
    cyrillic = parse((SPAMSCOPE / "mail_test_1").read_bytes()).ticket
    assert cyrillic.subject == "письмо уведом-е"


@needs_corpora
def test_a_display_name_with_an_unquoted_comma_still_yields_the_address() -> None:
    ticket = parse((SPAMSCOPE / "mail_test_18").read_bytes()).ticket
    assert ticket.sender == "comma.name@example.com"


@needs_corpora
def test_an_outlook_msg_file_is_not_an_email_and_is_quarantined() -> None:
    with pytest.raises(Unparseable, match="no header fields"):
        parse((SPAMSCOPE / "mail_outlook_1").read_bytes())


@needs_corpora
def test_oversize_mail_is_quarantined_naming_the_limit() -> None:
    raw = (SPAMSCOPE / "mail_test_2").read_bytes()
    with pytest.raises(Unparseable, match="over the 1000000-byte limit"):
        parse(raw, max_bytes=1_000_000)


def test_a_message_without_message_id_gets_a_stable_synthetic_id() -> None:
    raw = email_bytes(message_id=None)
    first, second = parse(raw).ticket, parse(raw).ticket
    assert first.message_id.endswith("@synthetic.triage")
    assert first.message_id == second.message_id and first.id == second.id
    assert parse(email_bytes(message_id=None, body="other text")).ticket.id != first.id


def test_html_only_mail_becomes_readable_text_without_the_quoted_history() -> None:
    raw = (SAMPLE_MAILBOX / "cur" / "1764000004.M4P100.mx1:2,").read_bytes()
    ticket = parse(raw).ticket
    assert "CSV export of the monthly report produces an empty file" in " ".join(ticket.body.split())
    assert "<b>" not in ticket.body and "Version 4.2 is now available" not in ticket.body


def test_attachments_are_listed_with_name_type_and_size_but_not_content() -> None:
    raw = (SAMPLE_MAILBOX / "cur" / "1764000011.M11P100.mx1:2,").read_bytes()
    ticket = parse(raw).ticket
    assert [(a.filename, a.content_type) for a in ticket.attachments] == [
        ("INV-2025-1187.pdf", "application/pdf")
    ]
    assert ticket.attachments[0].size > 2000
    assert "%PDF" not in ticket.body


def test_reply_headers_are_collected_for_threading() -> None:
    raw = email_bytes(headers={"In-Reply-To": "<a@x>", "References": "<root@x> <a@x>"})
    assert parse(raw).ticket.in_reply_to == ["a@x", "root@x"]


def test_latin1_body_with_quoted_printable_is_decoded() -> None:
    raw = (SAMPLE_MAILBOX / "cur" / "1764000012.M12P100.mx1:2,").read_bytes()
    ticket = parse(raw).ticket
    assert ticket.sender_name == "Jürgen Müller"
    assert "Jürgen Müller" in ticket.body


@pytest.mark.parametrize("from_header", [
    "Gina Gdpr gina.gdpr@example.com",
    "=?utf-8?q?Gina_Gdpr?= <gina.gdpr@example.com>",
    "=?utf-8?b?R2luYSBHZHByIDxnaW5hLmdkcHJAZXhhbXBsZS5jb20+?=",
    '"Gdpr, Gina" <GINA.GDPR@example.com>',
])  # fmt: skip
def test_ingest_and_erasure_read_the_same_sender_from_any_from_header(from_header: str) -> None:
    raw = f"From: {from_header}\nSubject: erase me\nMessage-ID: <gdpr@x>\n\nPlease delete my data.\n".encode()
    assert parse_message(raw, max_bytes=10_000).ticket.sender == "gina.gdpr@example.com"
    assert address_in(raw) == "gina.gdpr@example.com"


def test_raw_utf8_header_values_read_as_text_not_replacement_characters() -> None:
    raw = "From: Renée Müller <renee@example.com>\r\nSubject: Rechnung für März\r\n\r\nHallo".encode()
    ticket = parse_message(raw, max_bytes=10_000).ticket
    assert (ticket.sender_name, ticket.subject) == ("Renée Müller", "Rechnung für März")


def test_the_cc_addresses_are_kept_plain_once_each_without_the_sender_and_bounded() -> None:
    cc = 'Bob <Bob@Acme.example>, "Lee, Ann" <ann@acme.example>, bob@acme.example, not an address, <a b@c.d>'
    assert copied(cc, "ann@acme.example") == ["bob@acme.example"]
    many = ", ".join(f"p{i}@acme.example" for i in range(50_000))  # about 1 MB of Cc
    assert copied(many, "ann@acme.example") == [f"p{i}@acme.example" for i in range(20)]
    raw = b"From: ann@acme.example\r\nCc: Bob <bob@acme.example>\r\nSubject: hi\r\n\r\nbody\r\n"
    assert parse_message(raw, max_bytes=10_000).ticket.cc == ["bob@acme.example"]
