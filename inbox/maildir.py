"""A Maildir mail source: unprocessed messages in delivery order, marked processed only when told."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator
from pathlib import Path

from inbox.source import RawMessage, delivery_id_for

PROCESSED_FLAG = "S"  # Maildir "seen": a message we have durably handed to the pipeline


class MaildirSource:
    """Reads a Maildir folder (new/ and cur/) with the stdlib; a message counts as processed once seen."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).resolve()
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise FileNotFoundError(f"{self.path} is not a Maildir (no cur/ or new/ folder)")
        for sub in ("cur", "new", "tmp"):  # git does not keep empty folders
            (self.path / sub).mkdir(exist_ok=True)
        self._box = mailbox.Maildir(self.path, factory=None, create=False)

    @property
    def name(self) -> str:
        """The source's name in delivery ids and logs."""
        return f"maildir:{self.path}"

    def _pending_keys(self) -> list[tuple[float, str]]:
        pending = []
        for key in self._box.iterkeys():
            if key.startswith("."):  # .keep and other dot files are not messages
                continue
            msg = self._box.get_message(key)
            if PROCESSED_FLAG in msg.get_flags():
                continue
            pending.append((msg.get_date(), key))
        return sorted(pending)

    def pending(self) -> Iterator[RawMessage]:
        """Yield unprocessed messages, oldest delivery first."""
        for _, key in self._pending_keys():
            try:
                raw = self._box.get_bytes(key)
            except KeyError:  # another poller took it meanwhile
                continue
            yield RawMessage(delivery_id_for(self.name, key), self.name, key, raw)

    def mark_processed(self, delivery: RawMessage) -> None:
        """Flag a message as processed (renamed into cur/ with the S flag); call after the enqueue.

        The file is renamed, never rewritten, so the stored bytes stay exactly as delivered.
        """
        key = delivery.key
        msg = self._box.get_message(key)
        colon = self._box.colon
        current = self.path / msg.get_subdir() / (key + (colon + msg.get_info() if msg.get_info() else ""))
        flags = "".join(sorted(set(msg.get_flags()) | {PROCESSED_FLAG}))
        os.replace(current, self.path / "cur" / f"{key}{colon}2,{flags}")
        self._box._refresh()  # type: ignore[attr-defined]

    def close(self) -> None:
        """A Maildir holds no connection."""
