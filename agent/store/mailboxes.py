"""Mailboxes: the one poller's lock of each mailbox, each IMAP folder's cursor, and poll health; and
the cursor of the other thing polled, Jira, for people's corrections."""

from __future__ import annotations

import time

import redis
from redis.lock import Lock

from agent.keys import Keys
from inbox.imap import Cursor

_ADVANCE_CURSOR = """
local current = redis.call('HMGET', KEYS[1], 'uidvalidity', 'last_uid')
if current[1] == ARGV[1] and tonumber(current[2] or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'uidvalidity', ARGV[1], 'last_uid', ARGV[2])
return 1
"""


class Mailboxes:
    """Who polls a mailbox, how far an IMAP folder has been read, and how its polls went."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys
        self._advance_cursor = client.register_script(_ADVANCE_CURSOR)

    def poller_lock(self, mailbox: str, ttl_s: float) -> Lock:
        """The lock of a mailbox's one poller (not taken yet; renewable from another thread)."""
        lock: Lock = self.redis.lock(
            self.keys.poller_lock(mailbox), timeout=ttl_s, blocking=False, thread_local=False
        )
        return lock

    def record_poll(self, mailbox: str, ok: bool) -> None:
        """Remember a mailbox poll's outcome: the last success time, or one more consecutive failure."""
        if ok:
            self.redis.hset(
                self.keys.mailbox_health,
                mapping={f"{mailbox}:last_success": time.time(), f"{mailbox}:failures": 0},
            )
        else:
            self.redis.hincrby(self.keys.mailbox_health, f"{mailbox}:failures", 1)

    def cursor(self, mailbox: str) -> Cursor:
        """How far an IMAP folder has been read."""
        values = self.redis.hmget(self.keys.imap_cursor(mailbox), ["uidvalidity", "last_uid"])
        uidvalidity, last_uid = (int(v) if v is not None else None for v in values)
        return Cursor(uidvalidity=uidvalidity, last_uid=last_uid or 0)

    def read_back_cursor(self) -> float | None:
        """When the corrections read-back last asked Jira (unix seconds), or None: never."""
        value = self.redis.get(self.keys.read_back_cursor)
        return float(value) if value is not None else None

    def save_read_back_cursor(self, at: float) -> None:
        """Remember how far the corrections read-back got."""
        self.redis.set(self.keys.read_back_cursor, at)

    def save_cursor(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        """Move a folder's cursor forward (a new UIDVALIDITY may start it again from 0)."""
        self._advance_cursor(keys=[self.keys.imap_cursor(mailbox)], args=[uidvalidity, last_uid])
