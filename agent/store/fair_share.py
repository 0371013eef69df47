"""Fair share: runs wait here for their turn to be planned, taken in turn per mailbox, then per sender
domain within a mailbox, so one flood cannot hold up everyone else's mail.

It is start-time fair queueing on two levels. Each mailbox with waiting runs has a virtual time in one
sorted set; within a mailbox, each sender domain with waiting runs has one in the mailbox's sorted set;
each domain keeps its runs in arrival order. A turn takes the first run of the domain with the lowest
time in the mailbox with the lowest time, and moves both on by one over their weight: a domain of weight
2 gets two turns to another's one. A mailbox or domain that had nothing waiting starts at the clock (the
time of the last turn taken), so an idle sender saves up no turns. Every change is one script, so a
hundred workers taking turns at once each get a distinct run.

A turn is taken only while fewer runs than the most allowed are in flight (taken and not yet over), so
the backlog waits here, in fair order, rather than in the broker's first-come queues; a run that is over
frees its place, and the next turn is taken then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from agent.keys import Keys
from agent.store.codec import as_text

# KEYS: waiting (hash run -> tenant), mailboxes (zset), weights (hash), clock (hash), counts (hash).
# ARGV: the fair-share key prefix, run id, mailbox, its weight, domain, its weight.
# Returns 1 when the run now waits, 0 when it already did.
PUSH = """
local waiting, mailboxes, weights, clock, counts = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local prefix, run, mailbox, domain = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
if redis.call('HEXISTS', waiting, run) == 1 then return 0 end
local tenant = mailbox .. '\\n' .. domain
redis.call('HSET', waiting, run, tenant)
redis.call('HINCRBY', counts, mailbox, 1)
redis.call('RPUSH', prefix .. 'runs:' .. tenant, run)
local domains = prefix .. 'domains:' .. mailbox
if not redis.call('ZSCORE', domains, domain) then
  redis.call('ZADD', domains, tonumber(redis.call('HGET', clock, mailbox) or '0'), domain)
  redis.call('HSET', weights, tenant, ARGV[6])
end
if not redis.call('ZSCORE', mailboxes, mailbox) then
  redis.call('ZADD', mailboxes, tonumber(redis.call('HGET', clock, '') or '0'), mailbox)
  redis.call('HSET', weights, mailbox, ARGV[4])
end
return 1
"""

# KEYS: waiting, mailboxes, weights, clock, counts, running (zset run -> ms admitted).
# ARGV: the fair-share key prefix, the most runs in flight. Returns the run whose turn it is, or nil when
# none waits or the runs in flight are at the most.
TAKE = """
local waiting, mailboxes, weights, clock = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local counts, running = KEYS[5], KEYS[6]
local prefix = ARGV[1]
if redis.call('ZCARD', running) >= tonumber(ARGV[2]) then return nil end
-- A mailbox or domain that took a turn: out of its set when it has nothing left, else one over its weight on.
local function moved_on(set, member, time, weight_field, empty)
  if empty then
    redis.call('ZREM', set, member)
    redis.call('HDEL', weights, weight_field)
  else
    redis.call('ZADD', set, time + 1 / tonumber(redis.call('HGET', weights, weight_field) or '1'), member)
  end
end
while true do
  local first = redis.call('ZRANGE', mailboxes, 0, 0, 'WITHSCORES')
  if #first == 0 then return nil end
  local mailbox, mailbox_time = first[1], tonumber(first[2])
  local domains = prefix .. 'domains:' .. mailbox
  local head = redis.call('ZRANGE', domains, 0, 0, 'WITHSCORES')
  if #head == 0 then
    redis.call('ZREM', mailboxes, mailbox)
    redis.call('HDEL', weights, mailbox)
  else
    local domain, domain_time = head[1], tonumber(head[2])
    local tenant = mailbox .. '\\n' .. domain
    local runs = prefix .. 'runs:' .. tenant
    local run = redis.call('LPOP', runs)
    redis.call('HSET', clock, '', mailbox_time)
    redis.call('HSET', clock, mailbox, domain_time)
    moved_on(domains, domain, domain_time, tenant, redis.call('LLEN', runs) == 0)
    moved_on(mailboxes, mailbox, mailbox_time, mailbox, redis.call('ZCARD', domains) == 0)
    if run then
      redis.call('HDEL', waiting, run)
      if redis.call('HINCRBY', counts, mailbox, -1) <= 0 then redis.call('HDEL', counts, mailbox) end
      local now = redis.call('TIME')
      redis.call('ZADD', running, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000), run)
      return run
    end
  end
end
"""


class FairShare:
    """The runs waiting for their turn, and the runs in flight (agent/store/fair_share.py)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys
        self._push = client.register_script(PUSH)
        self._take = client.register_script(TAKE)

    def _state(self) -> list[str]:
        keys = self.keys
        return [keys.fair_waiting, keys.fair_mailboxes, keys.fair_weights, keys.fair_clock, keys.fair_counts]

    def push(self, run_id: str, mailbox: str, domain: str, weights: tuple[float, float] = (1.0, 1.0)) -> bool:
        """Let a run wait for its turn under its mailbox and sender domain, with their weights (mailbox,
        domain); False when it already waits (a message ingested twice waits once)."""
        mailbox_weight, domain_weight = (max(w, 0.01) for w in weights)
        args: list[str | float] = [self.keys.fair_prefix, run_id, mailbox, mailbox_weight, domain.lower()]
        args.append(domain_weight)
        return bool(self._push(keys=self._state(), args=args))

    def take(self, most_in_flight: int) -> str | None:
        """The run whose turn it is, now in flight; None when none waits or `most_in_flight` runs are."""
        state = [*self._state(), self.keys.fair_running]
        taken = self._take(keys=state, args=[self.keys.fair_prefix, most_in_flight])
        return None if taken is None else as_text(taken)

    def release(self, run_id: str) -> bool:
        """A run in flight is over (closed, or held for a person): its place is free. True when it was
        in flight."""
        return bool(self.redis.zrem(self.keys.fair_running, run_id))

    def is_waiting(self, run_id: str) -> bool:
        """True while the run waits for its turn."""
        return bool(self.redis.hexists(self.keys.fair_waiting, run_id))

    def admitted_at(self, run_id: str) -> float | None:
        """When the run took its turn (Unix seconds), while it is in flight."""
        score = self.redis.zscore(self.keys.fair_running, run_id)
        return None if score is None else float(score) / 1000

    def in_flight(self) -> list[str]:
        """The runs that took their turn and are not over yet."""
        return [as_text(r) for r in self.redis.zrange(self.keys.fair_running, 0, -1)]

    def waiting(self) -> int:
        """How many runs wait for their turn."""
        return int(self.redis.hlen(self.keys.fair_waiting))

    def waiting_by_mailbox(self) -> dict[str, int]:
        """How many runs wait for their turn, by mailbox."""
        return by_mailbox(self.redis.hgetall(self.keys.fair_counts))


def by_mailbox(counts: Mapping[Any, Any]) -> dict[str, int]:
    """The `fair_counts` hash as numbers: the runs waiting in each mailbox that has some."""
    return {as_text(mailbox): int(n) for mailbox, n in counts.items() if int(n) > 0}
