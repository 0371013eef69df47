"""Who sent a mail, read strictly: one address from the raw From header, taken before any encoded word is
decoded, and why it cannot be trusted when it cannot. The one reading of From: ingest, threading,
acknowledgements, incidents and erasure all take the sender (and its doubt) from here.

A stranger writes `=?utf-8?b?<victim's address>?= <attacker@evil>`, `victim@x <attacker@evil>` or two
addresses, hoping the victim's address is the one read. Addresses are parsed from the header as sent
(an encoded word is then only a name), and a header naming two addresses, or a name that is another
address, gives an address with a doubt: such a mail is a ticket of its own, never threaded, never
answered, never counted as a customer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.utils import getaddresses

from inbox.headers import header_text, raw_header

_LOCAL_PART = re.compile(r"[\w.+'=-]{1,64}\Z")
_DOMAIN = re.compile(r"[\w-]{1,63}(?:\.[\w-]{1,63})+")
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass(frozen=True)
class Sender:
    """The sender's address (lower case, '' when the header has none), display name, and why the address
    is not to be trusted as the sender's (None when it is)."""

    address: str
    name: str = ""
    doubt: str | None = None


def read_sender(from_values: Sequence[object]) -> Sender:
    """The sender of a mail from the values of its From headers, read strictly."""
    if not from_values:
        return Sender("")
    sender = _read_one(re.sub(r"\s+", " ", raw_header(from_values[0])).strip())
    if len(from_values) > 1 and sender.doubt is None:
        return Sender(sender.address, sender.name, f"the mail has {len(from_values)} From headers")
    return sender


def _read_one(raw: str) -> Sender:
    parsed = [(name, address.strip()) for name, address in getaddresses([raw]) if _is_address(address)]
    addresses = list(dict.fromkeys(address.lower() for _, address in parsed))
    if not addresses:  # the name is unquoted (`Gina Gdpr gina@example.com`): find the address in the text
        return _read_unquoted(header_text(raw))
    if len(addresses) > 1:
        return Sender(addresses[0], "", f"the From header names {len(addresses)} addresses")
    name = header_text(parsed[0][0])
    other = next((a for a in bare_addresses(name) if a.lower() != addresses[0]), None)
    if other is not None:
        return Sender(addresses[0], "", "the From name is another address than the sender's")
    return Sender(addresses[0], name.strip().strip('"'))


def _read_unquoted(text: str) -> Sender:
    """Display name and address from a From header whose name is not quoted."""
    found = list(_bare_address_spans(text))
    if not found:
        return Sender("")
    start, address = found[0]
    if len({a.lower() for _, a in found}) > 1:
        return Sender(address.lower(), "", f"the From header names {len(found)} addresses")
    return Sender(address.lower(), text[:start].strip().strip('"<').strip())


def _is_address(address: str) -> bool:
    return _ADDRESS.fullmatch(address) is not None


def bare_addresses(text: str) -> list[str]:
    """The address-like `local@domain` words in free text, in order."""
    return [address for _, address in _bare_address_spans(text)]


def _bare_address_spans(text: str) -> Iterator[tuple[int, str]]:
    """Each address-like `local@domain` in free text and where it starts. Linear: it looks only around
    each '@', in windows as long as an address part may be (local 64, domain 255)."""
    at = text.find("@")
    while at != -1:
        local = _LOCAL_PART.search(text, max(0, at - 64), at)
        domain = _DOMAIN.match(text, at + 1, at + 256)
        if local and domain:
            yield local.start(), f"{local.group(0)}@{domain.group(0)}"
        at = text.find("@", at + 1)
