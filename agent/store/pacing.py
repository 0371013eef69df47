"""The shared pacer (tools.pacing_port.Pacer) in Redis: one schedule per limit for the whole fleet.

Each limit is a generic cell rate (GCRA): its key holds the time its next turn is due; a call may go when
that time is at most `burst - 1` intervals ahead of now, and moves it one interval on. Every limit of a
call is checked and taken in one script, on the Redis server's clock (hosts' clocks differ; Redis's is
one), so a hundred workers asking at once get a hundred distinct turns. A hold-off (the API's
Retry-After) is a key of its own that stops every turn under its limit until it expires.
"""

from __future__ import annotations

import redis

from agent.keys import Keys
from tools.pacing_port import Limit

# KEYS: per limit, its schedule key then its hold-off key. ARGV: per limit, its interval per unit (ms; 0:
# no pace of its own), its burst and the units this call takes. Returns 0 when every limit gave a turn
# (and took them all), else the milliseconds until all could.
RESERVE = """
local now_s = redis.call('TIME')
local now = tonumber(now_s[1]) * 1000 + math.floor(tonumber(now_s[2]) / 1000)
local wait, due = 0, {}
for i = 1, #KEYS, 2 do
  local n = (i + 1) / 2
  local held = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if held > now then wait = math.max(wait, held - now) end
  local interval = tonumber(ARGV[3 * n - 2])
  if interval > 0 then
    local burst, cost = tonumber(ARGV[3 * n - 1]), tonumber(ARGV[3 * n])
    local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
    local allowed_at = tat + interval * (cost - burst)
    if allowed_at > now then wait = math.max(wait, allowed_at - now) end
    due[i] = tat + interval * cost
  end
end
if wait > 0 then return wait end
for i, tat in pairs(due) do
  redis.call('SET', KEYS[i], tat, 'PX', math.ceil(math.max(1, tat - now + 1000)))
end
return 0
"""

# KEYS: the hold-off key. ARGV: how long (ms). Never shortens a longer hold-off already there.
HOLD_OFF = """
local now_s = redis.call('TIME')
local now = tonumber(now_s[1]) * 1000 + math.floor(tonumber(now_s[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]))
end
return 0
"""


class Pacing:
    """Shared turns in Redis (the counting of waits and refusals is the caller's: workers/pacing.py)."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.redis, self.keys = client, keys
        self._reserve = client.register_script(RESERVE)
        self._hold_off = client.register_script(HOLD_OFF)

    def reserve(self, limits: list[Limit]) -> float:
        """See tools.pacing_port.Pacer.reserve."""
        keys: list[str] = []
        args: list[float | int] = []
        for limit in limits:
            keys += [self.keys.pace(limit.key), self.keys.pace_hold(limit.key)]
            burst = max(1, limit.burst)
            args += [1000 / limit.per_s if limit.per_s > 0 else 0, burst, min(max(limit.cost, 0), burst)]
        return int(self._reserve(keys=keys, args=args)) / 1000

    def hold_off(self, key: str, seconds: float) -> None:
        """See tools.pacing_port.Pacer.hold_off."""
        self._hold_off(keys=[self.keys.pace_hold(key)], args=[max(1, round(seconds * 1000))])

    def waited(self, api: str, seconds: float) -> None:
        """Nothing to count here."""

    def refused(self, api: str, reason: str) -> None:
        """Nothing to count here."""
