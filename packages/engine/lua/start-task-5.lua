--[[
  Marks a task attempt running and reads what the attempt needs, in one round trip.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events
  ARGV[1] task id  ARGV[2] attempt (every run of the handler counts: retries and re-runs after a lost worker)
  ARGV[3] now (ms)  ARGV[4] worker name
  ARGV[5] carrier job id, ARGV[6] its token: set when the attempt runs inline, in the job of the task it depends on
  (inline continuation); '' when the task's own job runs it
  ARGV[7] n: number of tasks whose status is wanted
  ARGV[8 .. 7+n] those tasks (dependencies and read tasks; their terminal statuses are returned)
  ARGV[8+n ..] tasks whose outputs the task reads
  Returns {workflow status, recorded status or '', recorded output or '', the attempt, dependency statuses...,
  outputs...}.
  A task whose completion is already recorded (a re-run after a crash) is not marked running again: the caller
  replays the recorded outcome instead of running the handler twice. Nothing is marked while the run is not running
  (or running its exit handlers: by then every other task has ended).
]]
local task = ARGV[1]
local status = redis.call('HGET', KEYS[1], 'status') or ''
local recorded = redis.call('HGET', KEYS[3], task)
if recorded then
  return {status, recorded, redis.call('HGET', KEYS[4], task) or '', ARGV[2]}
end
if status ~= 'running' and status ~= 'exiting' then
  return {status, '', '', ARGV[2]}
end
local attempt = tonumber(ARGV[2])
local raw = redis.call('HGET', KEYS[2], task)
local state = raw and cjson.decode(raw) or {}
-- An inline attempt whose carrier job ran again (its worker died, or lost the job's lock) is lost, whoever runs the
-- task now: the task's own job (re-added by the carrier's replay) or the carrier's next run. The next attempt counts.
local inlineLost = state.s == 'running' and state.k and state.k ~= ARGV[6]
if inlineLost and state.a and attempt <= state.a then attempt = state.a + 1 end
-- A delayed or waiting-children job comes back for the same attempt: one start event per attempt.
if state.s ~= 'running' or state.a ~= attempt then
  -- A running attempt that did not end (retry-task keeps ended ones in `h`) lost its worker: this is a re-run.
  local history = state.h or {}
  local last = history[#history]
  if state.s == 'running' and state.a and state.a < attempt and not (last and last.a == state.a) then
    history[#history + 1] = {a = state.a, w = state.w, st = state.st, ft = tonumber(ARGV[3]), s = 'lost'}
    state.h = history
    redis.call('XADD', KEYS[5], '*', 'type', 'task.stalled', 'task', task, 'attempt', state.a, 'at', ARGV[3], 'worker', state.w or '')
  end
  state.s = 'running'
  state.a = attempt
  state.st = tonumber(ARGV[3])
  state.w = ARGV[4]
  if ARGV[5] ~= '' then
    state.j = ARGV[5]
    state.k = ARGV[6]
  else
    state.j = nil
    state.k = nil
  end
  redis.call('HSET', KEYS[2], task, cjson.encode(state))
  redis.call('XADD', KEYS[5], '*', 'type', 'task.started', 'task', task, 'attempt', attempt, 'at', ARGV[3], 'worker', ARGV[4])
end
local n = tonumber(ARGV[7])
local result = {status, '', '', tostring(attempt)}
-- HMGET in slices rather than one HGET per task (a join reads as many statuses as it has dependencies); slices,
-- because unpack() is limited by Lua's stack.
local function read(key, first, last)
  for from = first, last, 1000 do
    local values = redis.call('HMGET', key, unpack(ARGV, from, math.min(from + 999, last)))
    for i = 1, #values do
      result[#result + 1] = values[i] or ''
    end
  end
end
read(KEYS[3], 8, 7 + n)
read(KEYS[4], 8 + n, #ARGV)
return result
