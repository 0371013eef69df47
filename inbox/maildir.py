"""A Maildir mail source: unprocessed messages in delivery order, marked processed only when told.

A poll reads file names and the pending files' mtimes, never the bytes of a message already seen: cur/
keeps every processed message, so a poll must not cost more as that folder grows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from inbox.source import (
    QUARANTINE_HEAD_BYTES,
    MailboxMisconfigured,
    RawMessage,
    delivery_id_for,
    over_the_limit,
)

PROCESSED_FLAG = "S"  # Maildir "seen": a message we have durably handed to the pipeline
INFO_SEPARATOR = ":"  # "unique:2,FLAGS" (the stdlib's mailbox.Maildir uses the same on POSIX)


def split_name(name: str) -> tuple[str, str]:
    """A Maildir file name's (unique key, flags); a name without "2," info has no flags."""
    key, _, info = name.partition(INFO_SEPARATOR)
    return key, info[2:] if info.startswith("2,") else ""


class MaildirSource:
    """Reads a Maildir folder (new/ and cur/); a message counts as processed once it has the S flag."""

    def __init__(
        self, path: str | os.PathLike[str], max_bytes: int | None = None, mailbox: str = "default"
    ) -> None:
        self.path = Path(path).resolve()
        self.mailbox = mailbox  # the desk's name for it: its tickets carry it
        self.max_bytes = max_bytes  # larger files are not read whole: only their head, for quarantine
        self._files: dict[str, Path] = {}  # key -> where the last scan saw its file

    def _check_folder(self) -> None:
        """Fail a poll clearly when the folder is not a Maildir; make an empty folder into one."""
        if not self.path.is_dir():
            raise MailboxMisconfigured(f"TRIAGE_MAILDIR: {self.path} does not exist (or is not a folder)")
        is_maildir = (self.path / "cur").is_dir() or (self.path / "new").is_dir()
        if not is_maildir and any(self.path.iterdir()):
            raise MailboxMisconfigured(
                f"TRIAGE_MAILDIR: {self.path} is not a Maildir (no cur/ or new/ folder)"
            )
        # An empty folder (a fresh volume, say) becomes an empty Maildir; git keeps no empty folders either.
        for sub in ("cur", "new", "tmp"):
            (self.path / sub).mkdir(exist_ok=True)

    @property
    def name(self) -> str:
        """The source's name in delivery ids and logs."""
        return f"maildir:{self.path}"

    def _scan(self) -> list[tuple[float, str, int]]:
        """(delivery time, key, size) of each unprocessed message, oldest first; remembers where each lies."""
        self._check_folder()
        self._files = {}
        pending = []
        for sub in ("new", "cur"):
            with os.scandir(self.path / sub) as entries:
                for entry in entries:
                    key, flags = split_name(entry.name)
                    if key.startswith(".") or not entry.is_file():  # .keep and other dot files
                        continue
                    self._files[key] = Path(entry.path)
                    if PROCESSED_FLAG in flags:
                        continue
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # renamed or removed since the listing
                        continue
                    pending.append((stat.st_mtime, key, stat.st_size))
        return sorted(pending)

    def pending(self) -> Iterator[RawMessage]:
        """Yield unprocessed messages, oldest delivery first; one over the size limit is not read whole
        (its size is checked first): only its head comes, with the reason, to be quarantined."""
        for _, key, size in self._scan():
            too_big = self.max_bytes is not None and size > self.max_bytes
            try:
                with self._files[key].open("rb") as handle:
                    raw = handle.read(QUARANTINE_HEAD_BYTES if too_big else -1)
            except FileNotFoundError:  # renamed or removed since the scan: the next poll sees it again
                continue
            error = over_the_limit(size, self.max_bytes) if too_big and self.max_bytes else None
            yield RawMessage(delivery_id_for(self.name, key), self.name, key, raw, error, self.mailbox)

    def mark_processed(self, delivery: RawMessage) -> None:
        """Flag a message as processed (renamed into cur/ with the S flag); call after the enqueue.

        The file is renamed, never rewritten, so the stored bytes stay exactly as delivered.
        """
        try:
            self._mark_seen(delivery.key)
        except (KeyError, FileNotFoundError):  # renamed since the scan (a mail client set a flag): look again
            self._scan()
            self._mark_seen(delivery.key)

    def _mark_seen(self, key: str) -> None:
        current = self._files[key]
        _, flags = split_name(current.name)
        flags = "".join(sorted(set(flags) | {PROCESSED_FLAG}))
        marked = self.path / "cur" / f"{key}{INFO_SEPARATOR}2,{flags}"
        os.replace(current, marked)
        self._files[key] = marked

    def close(self) -> None:
        """A Maildir holds no connection."""
