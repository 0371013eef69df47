"""The relay is read from the topmost Received header only, the one our own mail server wrote: what a
stranger writes below it, or anywhere else, does not change it."""

from __future__ import annotations

import email
from email.message import Message

import pytest

from inbox.relay import relay_network, relay_of


def message(*received: str) -> Message:
    head = "".join(f"Received: {r}\r\n" for r in received)
    return email.message_from_string(f"{head}From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n")


def test_the_topmost_received_headers_bracketed_address_is_the_relay() -> None:
    ours = "from mail.customer.example (mail.customer.example [198.51.100.7]) by mx.acme.example; Mon"
    forged = "from trusted.example ([10.0.0.1]) by mail.customer.example; Sun"
    assert relay_of(message(ours, forged)) == "198.51.100.7"


def test_an_ipv6_relay_and_its_network() -> None:
    found = relay_of(message("from h.example ([IPv6:2001:db8:1:2::7]) by mx.acme.example; Mon"))
    assert found == "2001:db8:1:2::7" and relay_network(found) == "2001:db8:1::/48"
    assert relay_network("198.51.100.7") == "198.51.100.0/24"


@pytest.mark.parametrize(
    "received",
    [
        "by mx.acme.example with LMTP; Mon",  # a local delivery names no host it came from
        "from h.example ([999.1.1.1]) by mx.acme.example",  # not an address
        "from h.example by mx.acme.example ([198.51.100.7]); Mon",  # the receiving side's address
        "from " + "[" * 1_000_000,  # 1 MB of openers
    ],
)
def test_a_received_header_without_a_relay_address_gives_none(received: str) -> None:
    assert relay_of(message(received)) is None


def test_a_message_that_passed_no_mail_server_has_no_relay() -> None:
    assert relay_of(message()) is None
