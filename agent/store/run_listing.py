"""The lists of runs people read: the newest, a page by creation time, the counts by status and the
dead letters, each optionally limited to some mailboxes (a console user's or token's own)."""

from __future__ import annotations

from collections.abc import Iterable

import redis

from agent.keys import Keys
from agent.run import Run
from agent.store.codec import as_text
from agent.store.run_layout import parse_run

Within = frozenset[str] | None  # the mailboxes a reader may see; None: every mailbox
UNNAMED = "default"  # the mailbox of a run created before runs named theirs


def sees(within: Within, mailbox: str) -> bool:
    """True when a reader limited to the mailboxes `within` may see what came to `mailbox`."""
    return within is None or mailbox in within


class RunListing:
    """Reads over the runs' indexes; Runs (agent/store/runs.py) adds the writes."""

    redis: redis.Redis
    keys: Keys

    def get(self, run_id: str) -> Run | None:
        """Load a whole run, or None if it does not exist (or has expired)."""
        return parse_run(run_id, self.redis.hgetall(self.keys.run(run_id)))

    def recent(self, limit: int = 20) -> list[Run]:
        """The newest runs, newest first."""
        ids = [as_text(i) for i in self.redis.zrevrange(self.keys.runs, 0, limit - 1)]
        return [r for r in (self.get(i) for i in ids) if r is not None]

    def page(self, newest: float, oldest: float, offset: int, count: int) -> list[Run]:
        """Runs created between two times (unix seconds), newest first, `count` of them from `offset`:
        one round trip for the ids and one for the runs."""
        found = self.redis.zrevrangebyscore(self.keys.runs, newest, oldest, start=offset, num=count)
        ids = [as_text(i) for i in found]
        pipe = self.redis.pipeline(transaction=False)
        for run_id in ids:
            pipe.hgetall(self.keys.run(run_id))
        return [r for r in map(parse_run, ids, pipe.execute() if ids else []) if r is not None]

    def status_counts(self, since: float, limit: int = 10_000, within: Within = None) -> dict[str, int]:
        """How many runs created since `since` (unix seconds) are in each status: the newest `limit` of
        them, of the mailboxes `within`, two round trips."""
        ids = self.redis.zrevrangebyscore(self.keys.runs, "+inf", since, start=0, num=limit)
        pipe = self.redis.pipeline(transaction=False)
        for run_id in ids:
            pipe.hmget(self.keys.run(as_text(run_id)), ["status", "mailbox"])
        counts: dict[str, int] = {}
        for status, mailbox in pipe.execute() if ids else []:
            if status is not None and _inside(mailbox, within):
                counts[as_text(status)] = counts.get(as_text(status), 0) + 1
        return counts

    def dead_letters(self, within: Within = None) -> list[Run]:
        """Runs in the dead-letter list, oldest first, of the mailboxes `within`."""
        ids = [as_text(i) for i in self.redis.zrange(self.keys.dead_letters, 0, -1)]
        runs = (r for r in (self.get(i) for i in ids) if r is not None)
        return [r for r in runs if sees(within, r.ticket.mailbox)]

    def mailboxes_of(self, run_ids: Iterable[str]) -> dict[str, str]:
        """The mailbox of each run that exists, in one round trip."""
        ids = list(run_ids)
        pipe = self.redis.pipeline(transaction=False)
        for run_id in ids:
            pipe.hmget(self.keys.run(run_id), ["status", "mailbox"])
        found: dict[str, str] = {}
        for run_id, (status, mailbox) in zip(ids, pipe.execute() if ids else [], strict=True):
            if status is not None:
                found[run_id] = as_text(mailbox) if mailbox is not None else UNNAMED
        return found


def _inside(mailbox: bytes | str | None, within: Within) -> bool:
    return sees(within, as_text(mailbox) if mailbox is not None else UNNAMED)
