"""One sender per mail, read strictly from the raw From header: a display name that is another address,
two addresses, or two From headers give an address with a doubt, and only the operator's own mail
server's DMARC verdict authenticates a sender."""

from __future__ import annotations

import base64

import pytest

from inbox.addresses import address_in
from inbox.authentication import dmarc_doubt
from inbox.parse import parse_message
from inbox.sender import read_sender


def encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def mail(*headers: str, body: str = "Please pay the invoice to IBAN XX00 0000.") -> bytes:
    lines = [*headers, "Subject: Re: Refund", "Message-ID: <m1@evil.example>"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


@pytest.mark.parametrize(
    "header",
    [
        f"{encoded('vera@customer.example')} <mallory@evil.example>",
        f"{encoded('Vera <vera@customer.example>')} <mallory@evil.example>",
        '"vera@customer.example" <mallory@evil.example>',
        "mallory@evil.example (vera@customer.example)",
    ],
)
def test_a_name_that_is_another_address_gives_the_real_address_with_a_doubt(header: str) -> None:
    sender = read_sender([header])
    assert sender.address == "mallory@evil.example" and sender.name == ""
    assert sender.doubt == "the From name is another address than the sender's"


@pytest.mark.parametrize(
    "header",
    [
        "vera@customer.example <mallory@evil.example>",
        "vera@customer.example, mallory@evil.example",
        "Vera <vera@customer.example>, Mallory <mallory@evil.example>",
        "Vera vera@customer.example mallory@evil.example",
        "Friends: vera@customer.example, mallory@evil.example;",
    ],
)
def test_a_header_with_two_addresses_gives_no_trusted_sender(header: str) -> None:
    sender = read_sender([header])
    assert sender.doubt and "names 2 addresses" in sender.doubt


def test_two_from_headers_give_no_trusted_sender() -> None:
    sender = read_sender(["Vera <vera@customer.example>", "Mallory <mallory@evil.example>"])
    assert sender.address == "vera@customer.example" and sender.doubt == "the mail has 2 From headers"


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        ("Jane Doe <Jane@Example.com>", "Jane Doe", "jane@example.com"),
        (f"{encoded('Renée Müller')} <renee@example.com>", "Renée Müller", "renee@example.com"),
        ('"Doe, Jane" <jane@example.com>', "Doe, Jane", "jane@example.com"),
        ("jane@example.com (Jane Doe)", "Jane Doe", "jane@example.com"),
        ("Gina Gdpr gina@example.com", "Gina Gdpr", "gina@example.com"),
        ('"jane@example.com" <jane@example.com>', "jane@example.com", "jane@example.com"),
        ("jane@example.com", "", "jane@example.com"),
    ],
)
def test_an_ordinary_from_is_read_as_written_and_trusted(header: str, name: str, address: str) -> None:
    assert read_sender([header]) == read_sender([header]).__class__(address, name, None)


def test_ingest_and_erasure_read_the_same_sender_and_the_ticket_carries_the_doubt() -> None:
    raw = mail(f"From: {encoded('vera@customer.example')} <mallory@evil.example>")
    ticket = parse_message(raw, max_bytes=100_000).ticket
    assert ticket.sender == address_in(raw) == "mallory@evil.example"
    assert ticket.sender_doubt and ticket.sender_name == "" and not ticket.sender_authenticated


SERVER = "mx.support.example"


@pytest.mark.parametrize(
    ("results", "doubt"),
    [
        (
            [f"{SERVER}; spf=pass smtp.mailfrom=customer.example; dmarc=pass header.from=customer.example"],
            None,
        ),
        ([f"{SERVER} 1; dmarc=pass (p=reject) header.from=Customer.Example"], None),
        ([f"{SERVER}; dmarc=fail (p=none) header.from=customer.example"], "dmarc=fail at"),
        ([f"{SERVER}; dmarc=none header.from=customer.example"], "dmarc=none at"),
        ([f"{SERVER}; dmarc=pass header.from=evil.example"], "is for evil.example, not the From domain"),
        ([f"{SERVER}; spf=pass smtp.mailfrom=customer.example"], "gave no DMARC result"),
        (
            ["mx.evil.example; dmarc=pass header.from=customer.example"],
            f"no Authentication-Results from {SERVER}",
        ),
        ([], f"no Authentication-Results from {SERVER}"),
        (
            [
                f"{SERVER}; dmarc=fail header.from=customer.example",
                f"{SERVER}; dmarc=pass header.from=customer.example",
            ],
            "dmarc=fail at",
        ),
        ([f"(a comment; dmarc=pass) {SERVER}; dmarc=fail header.from=customer.example"], "dmarc=fail at"),
    ],
)
def test_only_the_trusted_servers_topmost_dmarc_verdict_authenticates(
    results: list[str], doubt: str | None
) -> None:
    found = dmarc_doubt(results, SERVER, "customer.example")
    assert found is None if doubt is None else doubt in (found or "")


def test_with_a_trusted_server_a_forged_from_is_doubted_and_a_passing_one_authenticated() -> None:
    passed = mail(
        "From: Vera <vera@customer.example>",
        f"Authentication-Results: {SERVER}; dmarc=pass header.from=customer.example",
    )
    forged = mail(
        "From: Vera <vera@customer.example>",
        f"Authentication-Results: {SERVER}; dmarc=fail header.from=customer.example",
        "Authentication-Results: mx.evil.example; dmarc=pass header.from=customer.example",
    )
    good = parse_message(passed, max_bytes=100_000, authserv_id=SERVER).ticket
    bad = parse_message(forged, max_bytes=100_000, authserv_id=SERVER).ticket
    assert good.sender_authenticated and good.sender_doubt is None
    assert not bad.sender_authenticated and "dmarc=fail" in (bad.sender_doubt or "")
    assert parse_message(passed, max_bytes=100_000).ticket.sender_authenticated is False  # no server named
