"""The fleet's LLM books: what each ticket, each mailbox today and the whole fleet today spent on the
model, in tokens and USD. A call reserves its worst case before it is sent, in one script that checks
every budget and books it in all of them at once (a hundred workers racing cannot overspend), and is
settled with its real cost after; a call that failed keeps its reservation (it may have been billed).
Days are Redis's UTC days, the same on every host."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from agent.keys import Keys
from tools.llm_budget import REFUSED, Charge, Reserved

MICRO = 1_000_000  # USD are booked in millionths: Redis's integers add up exactly
DAY_KEPT_S = 3 * 86400

# KEYS: none (built from the books' prefix, Keys.llm_spent). ARGV: prefix, ticket, mailbox, tokens,
# micro-USD, the caps (0: none): ticket tokens, fleet tokens a day, fleet micro-USD a day, mailbox tokens
# a day; how long a ticket's and a day's books are kept (s). Returns the day booked on, or the name of
# the budget that would be overspent.
RESERVE = """
local prefix, ticket, mailbox = ARGV[1], ARGV[2], ARGV[3]
local tokens, usd = tonumber(ARGV[4]), tonumber(ARGV[5])
local day = math.floor(tonumber(redis.call('TIME')[1]) / 86400)
local books = {
  {prefix .. 'ticket:' .. ticket, 'tokens', tokens, tonumber(ARGV[6]), 'ticket'},
  {prefix .. 'day:' .. day, 'tokens', tokens, tonumber(ARGV[7]), 'day'},
  {prefix .. 'day:' .. day, 'usd', usd, tonumber(ARGV[8]), 'day_usd'},
  {prefix .. 'day:' .. day .. ':' .. mailbox, 'tokens', tokens, tonumber(ARGV[9]), 'mailbox'},
}
for _, b in ipairs(books) do
  if b[4] > 0 and tonumber(redis.call('HGET', b[1], b[2]) or '0') + b[3] > b[4] then return b[5] end
end
for _, b in ipairs(books) do redis.call('HINCRBY', b[1], b[2], b[3]) end
redis.call('HINCRBY', books[4][1], 'usd', usd)
redis.call('EXPIRE', books[1][1], tonumber(ARGV[10]))
redis.call('EXPIRE', books[2][1], tonumber(ARGV[11]))
redis.call('EXPIRE', books[4][1], tonumber(ARGV[11]))
return day
"""


@dataclass(frozen=True)
class Caps:
    """The budgets (None: no such budget): tokens per ticket, tokens and USD a day for the fleet, tokens
    a day per mailbox (a mailbox not named has none of its own)."""

    ticket_tokens: int | None = None
    daily_tokens: int | None = None
    daily_usd: float | None = None
    mailbox_daily_tokens: dict[str, int] | None = None

    def said(self, budget: str, mailbox: str) -> str:
        """Why a call was refused, naming the setting to raise."""
        if budget == "ticket":
            return f"the ticket's {self.ticket_tokens or 0:,} tokens (TRIAGE_LLM_TICKET_TOKENS) are spent"
        if budget == "day":
            return (
                f"the fleet's {self.daily_tokens or 0:,} tokens of today (TRIAGE_LLM_DAILY_TOKENS) are spent"
            )
        if budget == "day_usd":
            return f"the fleet's {self.daily_usd} USD of today (TRIAGE_LLM_DAILY_USD) are spent"
        return f"mailbox {mailbox}'s tokens of today (TRIAGE_LLM_MAILBOX_DAILY_TOKENS) are spent"


class LLMBudget:
    """Reserve, settle and read the books (tools/llm_budget.py's Budget)."""

    def __init__(self, client: redis.Redis, keys: Keys, caps: Caps, retention_s: int) -> None:
        self.redis, self.keys, self.caps, self.retention_s = client, keys, caps, retention_s
        self._reserve = client.register_script(RESERVE)

    def reserve(self, charge: Charge, tokens: int, usd: float) -> Reserved | str:
        """Book a call's worst case in every budget, or say (in words) which one it would overspend."""
        caps = self.caps
        mailbox_cap = (caps.mailbox_daily_tokens or {}).get(charge.mailbox, 0)
        args: list[str | int] = [self.keys.llm_spent, charge.ticket_id, charge.mailbox, tokens]
        args += [round(usd * MICRO), caps.ticket_tokens or 0, caps.daily_tokens or 0]
        args += [round((caps.daily_usd or 0) * MICRO), mailbox_cap, self.retention_s, DAY_KEPT_S]
        booked = self._reserve(args=args)
        if isinstance(booked, bytes):
            return f"{REFUSED}: {caps.said(booked.decode(), charge.mailbox)}"
        return Reserved(tokens, usd, int(booked))

    def settle(self, charge: Charge, reserved: Reserved, tokens: int, usd: float) -> None:
        """Book what the call cost instead of what it set aside (on the day it was reserved)."""
        extra_tokens, extra_micro = tokens - reserved.tokens, round((usd - reserved.usd) * MICRO)
        day = self.keys.llm_day(reserved.day)
        pipe = self.redis.pipeline()
        pipe.hincrby(self.keys.llm_ticket(charge.ticket_id), "tokens", extra_tokens)
        for key in (day, f"{day}:{charge.mailbox}"):
            pipe.hincrby(key, "tokens", extra_tokens)
            pipe.hincrby(key, "usd", extra_micro)
        pipe.execute()

    def spent_today(self) -> tuple[int, float]:
        """The fleet's tokens and USD of today (Redis's UTC day)."""
        day = int(self.redis.time()[0]) // 86400
        found = self.redis.hmget(self.keys.llm_day(day), ["tokens", "usd"])
        return int(found[0] or 0), int(found[1] or 0) / MICRO
