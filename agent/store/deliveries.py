"""Deliveries: each inbound message's raw bytes, its recorded outcome, the Message-ID claims, quarantine.

The only owner of those keys. The first delivery of a Message-ID and the first record of an outcome
are single atomic commands (SET NX), so a re-poll or a second poller never changes what was decided.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from agent.keys import Keys
from agent.run import HELD_OUTCOMES, Delivery
from agent.store.codec import as_text

# KEYS: the record, the deliveries index, the quarantine index. ARGV: the record, its retention (s), its
# time (unix s), the delivery id, 1 when it is held for a person (quarantine, spam). 1: recorded now.
RECORD = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 0 end
local at, oldest = tonumber(ARGV[3]), tonumber(ARGV[3]) - tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], at, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, oldest)
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[3], at, ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, oldest)
end
return 1
"""


class Deliveries:
    """What came in, what became of it, and the raw bytes kept for the retention."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s
        self._record = client.register_script(RECORD)

    def save_raw(self, delivery_id: str, raw: bytes) -> None:
        """Keep a message's raw bytes (first write wins: a re-poll never replaces them)."""
        self.redis.set(self.keys.raw(delivery_id), raw, nx=True, ex=self.retention_s)

    def raw(self, delivery_id: str) -> bytes | None:
        """A message's raw bytes, or None once expired."""
        value = self.redis.get(self.keys.raw(delivery_id))
        return value if isinstance(value, bytes) else None

    def raw_head(self, delivery_id: str, size: int) -> bytes:
        """The first `size` bytes of a message's raw copy (its headers), b"" when there is none."""
        head = self.redis.getrange(self.keys.raw(delivery_id), 0, size - 1)
        return head if isinstance(head, bytes) else b""

    def with_raw(self) -> Iterator[str]:
        """Every delivery id whose raw bytes are still kept, with or without a delivery record."""
        for key in self.redis.scan_iter(match=self.keys.raw("*"), count=500):
            yield as_text(key).rpartition(":")[2]

    def count_attempt(self, delivery_id: str) -> int:
        """Count one more attempt to ingest a message; the count tells a poison message."""
        key = self.keys.ingest_attempts(delivery_id)
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.retention_s)
        return int(pipe.execute()[0])

    def get(self, delivery_id: str) -> Delivery | None:
        """The recorded outcome of one inbound message."""
        value = self.redis.get(self.keys.delivery(delivery_id))
        return Delivery.model_validate_json(value) if value else None

    def record(self, delivery: Delivery) -> Delivery:
        """Record a message's outcome unless one is recorded; return the one that stands. The record and
        its place in the indexes are written in one script: a worker or a Redis that dies between them
        cannot leave a record that no list, search or console page finds."""
        keys = [self.keys.delivery(delivery.delivery_id), self.keys.deliveries, self.keys.quarantine]
        held = int(delivery.outcome in HELD_OUTCOMES)
        record, at = delivery.model_dump_json(), delivery.at.timestamp()
        args: list[str | float] = [record, self.retention_s, at, delivery.delivery_id, held]
        if self._record(keys=keys, args=args):
            return delivery
        stored = self.get(delivery.delivery_id)
        assert stored is not None
        return stored

    def release(self, delivery: Delivery) -> None:
        """Replace a quarantined message's record with what a person's release made of it; it leaves the
        quarantine unless it is quarantined still."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.keys.delivery(delivery.delivery_id), delivery.model_dump_json(), xx=True,
                 ex=self.retention_s)  # fmt: skip
        if delivery.outcome not in HELD_OUTCOMES:
            pipe.zrem(self.keys.quarantine, delivery.delivery_id)
        pipe.execute()

    def recent(self, limit: int = 1000) -> list[Delivery]:
        """The most recent deliveries, oldest first."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.deliveries, -limit, -1)]
        values = self.redis.mget([self.keys.delivery(i) for i in ids]) if ids else []
        return [Delivery.model_validate_json(v) for v in values if v]

    def page(self, newest: float, oldest: float, offset: int, count: int) -> list[Delivery]:
        """Deliveries recorded between two times (unix seconds), newest first, `count` of them from
        `offset`: one round trip for the ids and one for the records."""
        found = self.redis.zrevrangebyscore(self.keys.deliveries, newest, oldest, start=offset, num=count)
        ids = [as_text(i) for i in found]
        values = self.redis.mget([self.keys.delivery(i) for i in ids]) if ids else []
        return [Delivery.model_validate_json(v) for v in values if v]

    def quarantined(self) -> list[Delivery]:
        """Deliveries kept for a person to look at (quarantined, or spam), newest last."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.quarantine, 0, -1)]
        return [d for d in (self.get(i) for i in ids) if d is not None]

    def quarantined_page(self, offset: int, count: int) -> tuple[list[Delivery], bool]:
        """A page of the deliveries kept for a person, newest first, and whether older ones follow."""
        ids = [as_text(i) for i in self.redis.zrevrange(self.keys.quarantine, offset, offset + count)]
        found = [d for d in (self.get(i) for i in ids[:count]) if d is not None]
        return found, len(ids) > count

    def claim_message_id(self, message_id: str, delivery_id: str) -> str:
        """Claim a Message-ID for a delivery; return the delivery id that owns it (ours if first)."""
        key = self.keys.message(message_id)
        if self.redis.set(key, delivery_id, nx=True, ex=self.retention_s):
            return delivery_id
        owner = self.redis.get(key)
        return as_text(owner) if owner else delivery_id

    def message_owner(self, message_id: str) -> str | None:
        """The delivery id that first brought this Message-ID, if any."""
        owner = self.redis.get(self.keys.message(message_id))
        return as_text(owner) if owner else None

    def erase(self, delivery_id: str) -> int:
        """Delete a delivery: its raw bytes, its record and its place in the indexes (an erasure
        request); return how many raw copies went (0 or 1)."""
        pipe = self.redis.pipeline()
        pipe.delete(self.keys.raw(delivery_id))
        pipe.delete(self.keys.delivery(delivery_id))
        pipe.zrem(self.keys.deliveries, delivery_id)
        pipe.zrem(self.keys.quarantine, delivery_id)
        return int(pipe.execute()[0])

    def erase_message_claim(self, message_id: str) -> None:
        """Forget which delivery brought a Message-ID."""
        self.redis.delete(self.keys.message(message_id))
