"""The Lua scripts of agent/store/runs.py: each decision about a run in one atomic round trip.

Part of the runs room (the hash layout and its field names are run_layout.py's). Each script
checks the run still exists first, so a late write never resurrects an expired run as a hash without
a ticket or a TTL.
"""

from __future__ import annotations

from agent.store.run_layout import DISPATCHED, OBSERVE_LEFT, OBSERVE_WITHIN, OBSERVING, PLAN_SIZE, STEP

CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""

# Close a run once: the caller whose HSETNX of finished_at wins sets the status and moves the indexes.
# KEYS: run, active runs, dead letters. ARGV: finished_at, status, error, score, run id.
FINISH = """
if redis.call('HSETNX', KEYS[1], 'finished_at', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end
redis.call('ZREM', KEYS[2], ARGV[5])
if ARGV[2] == 'dead_letter' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
  redis.call('PERSIST', KEYS[1])
end
return 1
"""

# Record what happened and decide what follows, atomically: optionally store a plan (the first wins),
# write fields (a step's final state), then read every step's state; when all are done close the run
# (once), otherwise claim each step whose dependencies are done (or skipped: run.SETTLED_STEP_STATUSES)
# and that nobody dispatched yet.
# When all are done but the planner may still look at the results (observe rounds left), the caller
# claims that look instead of closing (outcome 2); a claim older than the look may take is claimed again.
# Steps finishing at the same moment each see the other's write, so exactly one of them goes on.
# KEYS: run, active runs. ARGV: finished_at, dispatch stamp, run id, guard field ('' for none), guard
# value, n, n field/value pairs, then per plan step: its id and its dependencies joined by ','.
# Returns {outcome, claimed}: outcome 1 closed the run, 2 claimed the look, 0 otherwise, -1 the run is
# gone, -2 the guard field was written first (another plan, or another look's extension).
ADVANCE = f"""
if redis.call('HEXISTS', KEYS[1], 'ticket') == 0 then return {{-1, {{}}}} end
if ARGV[4] ~= '' and redis.call('HSETNX', KEYS[1], ARGV[4], ARGV[5]) == 0 then return {{-2, {{}}}} end
local n = tonumber(ARGV[6])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 7, 6 + 2 * n)) end
if redis.call('HEXISTS', KEYS[1], 'finished_at') == 1 then return {{0, {{}}}} end
local ids, deps, fields = {{}}, {{}}, {{}}
for j = 7 + 2 * n, #ARGV, 2 do
  ids[#ids + 1] = ARGV[j]
  deps[ARGV[j]] = ARGV[j + 1]
  fields[#fields + 1] = '{STEP}' .. ARGV[j]
end
local done, count = {{}}, 0
if #fields > 0 then
  local states = redis.call('HMGET', KEYS[1], unpack(fields))
  for k, id in ipairs(ids) do
    local status = states[k] and cjson.decode(states[k]).status
    if status == 'done' or status == 'skipped' then
      done[id] = true
      count = count + 1
    end
  end
end
if count == #ids then
  local size = redis.call('HGET', KEYS[1], '{PLAN_SIZE}')
  if size and tonumber(size) ~= #ids then return {{0, {{}}}} end
  if tonumber(redis.call('HGET', KEYS[1], '{OBSERVE_LEFT}') or '0') > 0 then
    local since = tonumber(redis.call('HGET', KEYS[1], '{OBSERVING}') or '0')
    local within = tonumber(redis.call('HGET', KEYS[1], '{OBSERVE_WITHIN}') or '0')
    if since > 0 and tonumber(ARGV[2]) - since < within then return {{0, {{}}}} end
    redis.call('HSET', KEYS[1], '{OBSERVING}', ARGV[2])
    return {{2, {{}}}}
  end
  if redis.call('HSETNX', KEYS[1], 'finished_at', ARGV[1]) == 0 then return {{0, {{}}}} end
  redis.call('HSET', KEYS[1], 'status', 'done')
  redis.call('ZREM', KEYS[2], ARGV[3])
  return {{1, {{}}}}
end
local claimed = {{}}
for _, id in ipairs(ids) do
  if not done[id] then
    local ready = true
    for dep in string.gmatch(deps[id], '[^,]+') do
      if not done[dep] then ready = false end
    end
    if ready and redis.call('HSETNX', KEYS[1], '{DISPATCHED}' .. id, ARGV[2]) == 1 then
      claimed[#claimed + 1] = id
    end
  end
end
return {{0, claimed}}
"""

# Load a run and, when the step was never attempted in a running run (the hot path), mark its first
# attempt started in the same round trip. KEYS: run. ARGV: the step's field, its running state.
# Returns {1 if it was marked, the run's hash as a flat list}.
START = """
local marked = 0
if redis.call('HGET', KEYS[1], 'status') == 'running' then
  local state = redis.call('HGET', KEYS[1], ARGV[1])
  if state then
    local s = cjson.decode(state)
    if s.status == 'pending' and s.attempts == 0 then
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
      marked = 1
    end
  end
end
return {marked, redis.call('HGETALL', KEYS[1])}
"""
