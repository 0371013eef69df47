"""An IMAP mail source: a UID cursor per mailbox and folder, timeouts on every command, IDLE.

Only UIDs above the cursor are fetched (with BODY.PEEK, so nothing is marked \\Seen by reading); the
cursor moves past a message only once its outcome is recorded and its run enqueued. A UIDVALIDITY
change restarts the cursor at the folder's beginning: the old messages come again as new deliveries,
and Message-ID dedupe records them as duplicates instead of new tickets. A message whose fetch fails
is handed on with the reason (it is quarantined) and the poller moves on; a broken connection aborts
the poll, which is retried.
"""

from __future__ import annotations

import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError
from pydantic import BaseModel, ConfigDict, SecretStr

from inbox.source import (
    QUARANTINE_HEAD_BYTES,
    MailboxMisconfigured,
    RawMessage,
    delivery_id_for,
    over_the_limit,
)

log = logging.getLogger("triage")

CONNECTION_ERRORS = (IMAPClientAbortError, imaplib.IMAP4.abort, OSError, ssl.SSLError, socket.timeout)


class ImapConfig(BaseModel):
    """Where the mailbox is and what to do with a handled message: built from the TRIAGE_IMAP_* settings,
    which hold every default."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    security: Literal["true", "starttls", "false"]
    user: str
    password: SecretStr | None
    oauth2_token: SecretStr | None
    oauth2_token_file: Path | None
    folder: str
    timeout_s: float
    processed: Literal["leave", "flag", "move"]
    processed_keyword: str
    processed_folder: str
    read_only: bool = False  # EXAMINE instead of SELECT: nothing in the folder changes (the demo)
    max_bytes: int | None = None  # a larger message is not fetched whole: only its head, for quarantine


@dataclass(frozen=True)
class Cursor:
    """How far a mailbox folder has been read: its UIDVALIDITY and the last handled UID."""

    uidvalidity: int | None
    last_uid: int


class CursorStore(Protocol):
    """Where cursors live (the run store's mailboxes, in Redis)."""

    def cursor(self, mailbox: str) -> Cursor:
        """The cursor of a mailbox folder (uidvalidity None when never read)."""
        ...

    def save_cursor(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        """Move the cursor forward (never back within one UIDVALIDITY)."""
        ...


class ImapSource:
    """One IMAP folder as a mail source; keeps its connection between polls, reconnects when broken."""

    def __init__(self, config: ImapConfig, cursors: CursorStore, mailbox: str = "default") -> None:
        self.config = config
        self.cursors = cursors
        self.mailbox = mailbox  # the desk's name for it: its tickets carry it
        self._client: IMAPClient | None = None

    @property
    def name(self) -> str:
        """imap:user@host:port/folder."""
        c = self.config
        return f"imap:{c.user}@{c.host}:{c.port}/{c.folder}"

    def connect(self) -> IMAPClient:
        """The open connection, or a new one (TLS as configured, then login or XOAUTH2)."""
        if self._client is not None:
            return self._client
        c = self.config
        client = IMAPClient(c.host, port=c.port, ssl=c.security == "true", timeout=c.timeout_s)
        try:
            if c.security == "starttls":
                client.starttls(ssl.create_default_context())
            if (token := self._oauth2_token()) is not None:
                client.oauth2_login(c.user, token)
            elif c.password is not None:
                client.login(c.user, c.password.get_secret_value())
            client.select_folder(c.folder, readonly=c.read_only)
            if c.processed == "move" and not client.folder_exists(c.processed_folder):
                raise MailboxMisconfigured(
                    f"TRIAGE_IMAP_PROCESSED_FOLDER: the folder {c.processed_folder!r} does not exist on "
                    f"{c.host}; create it, or set TRIAGE_IMAP_PROCESSED=flag"
                )
        except BaseException:
            self._close_quietly(client)
            raise
        self._client = client
        return client

    def _oauth2_token(self) -> str | None:
        """The XOAUTH2 access token: the token file as it is now (a refresher rewrites it before the
        token expires), else the configured token. A missing or empty file fails this connect only."""
        path = self.config.oauth2_token_file
        if path is None:
            return self.config.oauth2_token.get_secret_value() if self.config.oauth2_token else None
        token = path.read_text().strip()
        if not token:
            raise OSError(f"the OAuth2 token file {path} is empty")
        return token

    @staticmethod
    def _close_quietly(client: IMAPClient) -> None:
        with suppress(Exception):  # already broken: nothing to close cleanly
            client.shutdown()

    def close(self) -> None:
        """Log out (or just drop a broken connection)."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.logout()
            except Exception:
                self._close_quietly(client)

    def _fetch(self, client: IMAPClient, uid: int) -> tuple[bytes | None, str | None]:
        """One message's bytes, or why not; connection failures propagate (the poll is retried). The size
        is asked first (RFC822.SIZE): a message over the limit is not fetched whole, only its head."""
        limit = self.config.max_bytes
        try:
            size = int(client.fetch([uid], ["RFC822.SIZE"]).get(uid, {}).get(b"RFC822.SIZE", 0))
            head = limit is not None and size > limit
            item, answer = (
                (f"BODY.PEEK[]<0.{QUARANTINE_HEAD_BYTES}>", b"BODY[]<0>")
                if head
                else ("BODY.PEEK[]", b"BODY[]")
            )
            data: dict[int, dict[bytes, Any]] = client.fetch([uid], [item])
        except CONNECTION_ERRORS:
            raise
        except IMAPClientError as exc:
            return None, f"could not fetch the message: the server refused to fetch UID {uid}: {exc}"
        body = data.get(uid, {}).get(answer)
        if not isinstance(body, bytes):
            return (
                None,
                f"could not fetch the message: UID {uid} vanished before it could be fetched (expunged?)",
            )
        return body, over_the_limit(size, limit) if head and limit else None

    def pending(self) -> Iterator[RawMessage]:
        """Messages above the cursor, oldest UID first."""
        client = self.connect()
        try:
            info = client.select_folder(self.config.folder, readonly=self.config.read_only)
        except CONNECTION_ERRORS:
            self.close()
            raise
        uidvalidity = int(info[b"UIDVALIDITY"])
        cursor = self.cursors.cursor(self.name)
        last_uid = cursor.last_uid
        if cursor.uidvalidity != uidvalidity:
            if cursor.uidvalidity is not None:
                log.warning(
                    "imap UIDVALIDITY of %s changed from %s to %s: reading the folder again; "
                    "Message-ID dedupe keeps old mail from becoming new tickets",
                    self.name,
                    cursor.uidvalidity,
                    uidvalidity,
                )
            last_uid = 0
            self.cursors.save_cursor(self.name, uidvalidity, 0)
        uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        for uid in uids:
            raw, error = self._fetch(client, uid)
            key = f"{uidvalidity}:{uid}"
            yield RawMessage(delivery_id_for(self.name, key), self.name, key, raw, error, self.mailbox)

    def mark_processed(self, delivery: RawMessage) -> None:
        """Advance the cursor, then flag or move the message as configured (never delete it)."""
        uidvalidity, uid = (int(part) for part in delivery.key.split(":"))
        self.cursors.save_cursor(self.name, uidvalidity, uid)
        client = self.connect()
        if self.config.read_only:
            return
        if self.config.processed == "flag":
            client.add_flags([uid], [self.config.processed_keyword])
        elif self.config.processed == "move":
            client.move([uid], self.config.processed_folder)

    def wait_for_mail(self, timeout_s: float) -> bool:
        """IDLE until the server announces new mail or timeout_s passes; False without IDLE support."""
        client = self.connect()
        if b"IDLE" not in client.capabilities():
            return False
        client.idle()
        try:
            client.idle_check(timeout=timeout_s)
        finally:
            client.idle_done()
        return True
