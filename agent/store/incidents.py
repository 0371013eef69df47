"""The incident register (tools.incident_port.IncidentRegister) in Redis: incidents and their members.

An incident is a hash (head fields and one `m:<ticket id>` field per member), a set of its members whose
issues are not linked yet, and a score in the incidents index (its latest report). Each ticket's
membership is a key of its own, set once: a ticket belongs to at most one incident. Opening and joining
are one script, so two workers judging two reports of one outage at the same moment agree.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import redis

from agent.keys import Keys
from agent.store.codec import as_text
from tools.incident_port import Incident, Member
from tools.mail_out import mailbox_of

_HEAD = ("id", "title", "opened_at", "problem_key")
_MEMBER = "m:"

# KEYS: incidents index, the new incident's hash, its unlinked set, then each candidate's membership key
# (this ticket's first). ARGV: retention, min reports, join quorum, new id, now (unix), incident key
# prefix, unlinked key prefix, head fields as JSON object, membership key prefix, merged key prefix, then
# per candidate: ticket id, mailbox, member JSON. This ticket already in one: that one. Else the live
# incidents (by the candidates' order) that at least `quorum` candidates are in: this ticket joins the
# one opened first, and any other is merged into it (they are one outage: its members move, their
# membership with them; its id goes into the merged set, for its problem issue to be linked). Else, when
# the candidates in no incident come from at least `min reports` distinct mailboxes, and from two
# domains at least (one stranger's many addresses are one reporter), the new incident opens with them.
OPEN_OR_JOIN = """
local retention, now, prefix = ARGV[1], ARGV[5], ARGV[6]
local function arg(i, k) return ARGV[10 + (i - 1) * 3 + k] end
local function join(id, i)
  redis.call('HSET', prefix .. id, 'm:' .. arg(i, 1), arg(i, 3))
  redis.call('EXPIRE', prefix .. id, retention)
  redis.call('SADD', ARGV[7] .. id, arg(i, 1))
  redis.call('EXPIRE', ARGV[7] .. id, retention)
  redis.call('SET', KEYS[3 + i], id, 'EX', retention)
end
local function merge(into, from)
  local fields = redis.call('HGETALL', prefix .. from)
  for f = 1, #fields, 2 do
    local name, value = fields[f], fields[f + 1]
    if string.sub(name, 1, 2) == 'm:' then
      local ticket = string.sub(name, 3)
      redis.call('HSET', prefix .. into, name, value)
      redis.call('SET', ARGV[9] .. ticket, into, 'EX', retention)
    end
  end
  for _, ticket in ipairs(redis.call('SMEMBERS', ARGV[7] .. from)) do
    redis.call('SADD', ARGV[7] .. into, ticket)
  end
  redis.call('EXPIRE', ARGV[7] .. into, retention)
  redis.call('SADD', ARGV[10] .. into, from)
  redis.call('EXPIRE', ARGV[10] .. into, retention)
  redis.call('DEL', prefix .. from, ARGV[7] .. from)
  redis.call('ZREM', KEYS[1], from)
end
local mine = redis.call('GET', KEYS[4])
if mine and redis.call('EXISTS', prefix .. mine) == 1 then return mine end
local n = #KEYS - 3
local votes, order, taken = {}, {}, {}
for i = 2, n do
  local theirs = redis.call('GET', KEYS[3 + i])
  if theirs and redis.call('EXISTS', prefix .. theirs) == 1 then
    taken[i] = true
    if not votes[theirs] then votes[theirs] = 0; order[#order + 1] = theirs end
    votes[theirs] = votes[theirs] + 1
  end
end
local kept, opened, same = nil, nil, {}
for _, id in ipairs(order) do
  if votes[id] >= tonumber(ARGV[3]) then
    same[#same + 1] = id
    local at = redis.call('HGET', prefix .. id, 'opened_at')
    if kept == nil or at < opened then kept, opened = id, at end
  end
end
if kept then
  for _, id in ipairs(same) do if id ~= kept then merge(kept, id) end end
  join(kept, 1)
  redis.call('ZADD', KEYS[1], now, kept)
  return kept
end
local senders, distinct, domains, places = {}, 0, {}, 0
for i = 1, n do
  local sender = arg(i, 2)
  local domain = string.match(sender, '@(.*)$') or sender
  if not taken[i] and not senders[sender] then senders[sender] = true; distinct = distinct + 1 end
  if not taken[i] and not domains[domain] then domains[domain] = true; places = places + 1 end
end
if distinct < tonumber(ARGV[2]) or places < math.min(2, tonumber(ARGV[2])) then return false end
for field, value in pairs(cjson.decode(ARGV[8])) do redis.call('HSET', KEYS[2], field, value) end
for i = 1, n do if not taken[i] then join(ARGV[4], i) end end
redis.call('ZADD', KEYS[1], now, ARGV[4])
return ARGV[4]
"""


class Incidents:
    """Open, join, read and forget incidents."""

    def __init__(self, client: redis.Redis, keys: Keys, retention_s: int) -> None:
        self.redis, self.keys, self.retention_s = client, keys, retention_s
        self._open_or_join = client.register_script(OPEN_OR_JOIN)

    def incident_of(self, ticket_id: str) -> str | None:
        """The id of the incident the ticket belongs to, or None."""
        found = self.redis.get(self.keys.incident_of(ticket_id))
        return as_text(found) if found is not None else None

    def open_or_join(
        self, incident: Incident, candidates: list[Member], min_reports: int, quorum: int
    ) -> str | None:
        """See tools.incident_port.IncidentRegister.open_or_join."""
        head = {"id": incident.id, "title": incident.title, "opened_at": incident.opened_at.isoformat()}
        members: list[str] = []
        for member in candidates:
            members += [member.ticket_id, mailbox_of(member.sender), member.model_dump_json()]
        own = (self.keys.incident(incident.id), self.keys.incident_unlinked(incident.id))
        keys = [self.keys.incidents, *own, *(self.keys.incident_of(m.ticket_id) for m in candidates)]
        args: list[str | int | float] = [
            self.retention_s,
            min_reports,
            quorum,
            incident.id,
            time.time(),
            self.keys.incident_prefix,
            self.keys.incident_unlinked(""),
            json.dumps(head),
            self.keys.incident_of(""),
            self.keys.incident_merged(""),
            *members,
        ]
        found = self._open_or_join(keys=keys, args=args)
        return as_text(found) if found is not None else None

    def get(self, incident_id: str, members: bool = True) -> Incident | None:
        """The incident, with its members (oldest first) unless `members` is False, or None."""
        key = self.keys.incident(incident_id)
        if members:
            fields = {as_text(k): as_text(v) for k, v in self.redis.hgetall(key).items()}
        else:
            fields = {k: as_text(v) for k, v in zip(_HEAD, self.redis.hmget(key, _HEAD), strict=True) if v}
        if "id" not in fields:
            return None
        found = [Member.model_validate_json(v) for k, v in fields.items() if k.startswith(_MEMBER)]
        return Incident(
            **{k: fields[k] for k in _HEAD if k in fields}, members=sorted(found, key=lambda m: m.joined_at)
        )

    def unlinked(self, incident_id: str) -> list[Member]:
        """The members whose issue is not linked to the problem issue yet (a page at most)."""
        ids = [
            as_text(i) for i in self.redis.srandmember(self.keys.incident_unlinked(incident_id), 500) or []
        ]
        if not ids:
            return []
        found = self.redis.hmget(self.keys.incident(incident_id), [_MEMBER + i for i in ids])
        return [Member.model_validate_json(v) for v in found if v is not None]

    def note_problem(self, incident_id: str, problem_key: str) -> None:
        """Record the incident's problem issue."""
        if self.redis.exists(self.keys.incident(incident_id)):
            self.redis.hset(self.keys.incident(incident_id), "problem_key", problem_key)

    def merged(self, incident_id: str) -> list[str]:
        """The incidents merged into this one whose problem issue is not linked to its own yet."""
        return sorted(as_text(i) for i in self.redis.smembers(self.keys.incident_merged(incident_id)))

    def note_merge_linked(self, incident_id: str, merged_id: str) -> None:
        """Record that a merged incident's problem issue is linked to this one's (or it had none)."""
        self.redis.srem(self.keys.incident_merged(incident_id), merged_id)

    def note_linked(self, incident_id: str, ticket_id: str, issue_key: str) -> None:
        """Record that the member's issue is linked to the problem issue."""
        key = self.keys.incident(incident_id)
        raw = self.redis.hget(key, _MEMBER + ticket_id)
        if raw is not None:
            member = Member.model_validate_json(raw).model_copy(
                update={"linked": True, "issue_key": issue_key}
            )
            self.redis.hset(key, _MEMBER + ticket_id, member.model_dump_json())
        self.redis.srem(self.keys.incident_unlinked(incident_id), ticket_id)

    def recent(self, since: datetime, limit: int = 100) -> list[Incident]:
        """The incidents with a report since `since`, latest report first (the open ones, for a window)."""
        ids = self.redis.zrevrangebyscore(self.keys.incidents, "+inf", since.timestamp(), start=0, num=limit)
        found = (self.get(as_text(i)) for i in ids)
        return [i for i in found if i is not None]

    def forget_ticket(self, ticket_id: str) -> bool:
        """Take a ticket out of its incident (an erasure request); whether it was in one."""
        incident_id = self.incident_of(ticket_id)
        if incident_id is None:
            return False
        pipe: Any = self.redis.pipeline()
        pipe.hdel(self.keys.incident(incident_id), _MEMBER + ticket_id)
        pipe.srem(self.keys.incident_unlinked(incident_id), ticket_id)
        pipe.delete(self.keys.incident_of(ticket_id))
        pipe.execute()
        return True

    def trim(self, now: datetime | None = None) -> int:
        """Drop from the index the incidents whose latest report is older than the retention (their
        hashes expire by themselves); how many went."""
        cutoff = (now or datetime.now(UTC)).timestamp() - self.retention_s
        return int(self.redis.zremrangebyscore(self.keys.incidents, "-inf", cutoff))
