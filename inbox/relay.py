"""The relay: the host that handed a message to our own mail server, as that server wrote it in the
topmost Received header. A stranger can write any From and any Received header below ours, but not the
address our server saw the connection come from; the fair share keys senders it cannot trust by it."""

from __future__ import annotations

import ipaddress
import re
from email.message import Message

MAX_RECEIVED_CHARS = 2000  # of the topmost Received header, read
_FROM_CLAUSE = re.compile(r"^\s*from\s+(.*?)(?:\s+by\s|;|$)", re.IGNORECASE | re.DOTALL)
_BRACKETED = re.compile(r"\[(?:IPv6:)?([0-9A-Fa-f:.]{2,45})\]")


def relay_of(msg: Message) -> str | None:
    """The relay's IP address from the topmost Received header's `from` clause, or None when it names
    none (a message put into the mailbox without passing a mail server)."""
    received = msg.get_all("Received") or []
    if not received:
        return None
    found = _FROM_CLAUSE.search(str(received[0])[:MAX_RECEIVED_CHARS])
    bracketed = _BRACKETED.search(found.group(1)) if found else None
    if bracketed is None:
        return None
    try:
        return str(ipaddress.ip_address(bracketed.group(1)))
    except ValueError:
        return None


def relay_network(relay: str) -> str:
    """The network a relay's address stands for: its /24 (IPv4) or /48 (IPv6), as one sender's servers
    and one attacker's rented addresses usually share one."""
    address = ipaddress.ip_address(relay)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
