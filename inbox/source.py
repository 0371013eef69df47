"""What every mail source gives the pipeline: deliveries in order, and a way to mark one processed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


class MailboxMisconfigured(Exception):
    """The mailbox cannot be read as configured (no such Maildir, a missing IMAP folder); the message
    names the setting to fix. A poll that meets it fails with one clear log line, not a traceback."""


@dataclass(frozen=True)
class RawMessage:
    """One message as a source delivered it: its raw bytes, or why they could not be read."""

    delivery_id: str
    source: str
    key: str
    raw: bytes | None
    error: str | None = None
    mailbox: str = "default"  # the desk's name for the mailbox it came from (workers/mailboxes.py)


QUARANTINE_HEAD_BYTES = 64 * 1024  # of a message over the size limit, only this much is read and kept


def over_the_limit(size: int, max_bytes: int) -> str:
    """The reason a message of `size` bytes is not read whole."""
    return (
        f"message is {size} bytes, over the {max_bytes}-byte limit "
        f"(only its first {QUARANTINE_HEAD_BYTES} bytes were read and kept)"
    )


def delivery_id_for(source: str, key: str) -> str:
    """A stable id for one delivery of one source (the same message re-read gets the same id)."""
    return "D" + hashlib.sha256(f"{source}:{key}".encode()).hexdigest()[:15]


class MailSource(Protocol):
    """A mailbox the poller reads (Maildir, IMAP)."""

    @property
    def name(self) -> str:
        """The source's name in delivery ids, locks, logs and metrics."""
        ...

    @property
    def mailbox(self) -> str:
        """The desk's name for the mailbox it reads (workers/mailboxes.py): its tickets carry it."""
        ...

    def pending(self) -> Iterator[RawMessage]:
        """Unprocessed messages, oldest first."""
        ...

    def mark_processed(self, delivery: RawMessage) -> None:
        """Called once the message's outcome is recorded and its run enqueued."""
        ...

    def close(self) -> None:
        """Release any connection the source holds."""
        ...
