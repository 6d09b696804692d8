--[[
  Records a task's completion exactly once and returns the dependents it makes ready.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events  KEYS[6] waits
  ARGV[1] task id  ARGV[2] terminal status  ARGV[3] output JSON or ''  ARGV[4] error or ''  ARGV[5] now (ms)
  ARGV[6] attempt  ARGV[7] '1' when this failure fails the workflow (fail-fast)  ARGV[8] why it was skipped or ''
  ARGV[9] the run's number of tasks, or '0': then the reply says whether every one has a completion record now
  ARGV[10] k: the number of the task's dependents  ARGV[11 .. 10+k] those dependents
  Then, optionally (inline continuation), a dependent to start in the same call if this completion makes it ready:
  ARGV[11+k] its id, then its attempt, now, worker, carrier job id, carrier token, n and its wanted and read tasks
  as start-task takes them (ARGV[5 ..] there).
  Returns {workflow status, '1' if this call started fail-fast, '1' if every task is recorded, '1' if the dependent
  was started, r, the r other ready dependents..., and for a started one what start-task returns after its
  status: the attempt, statuses..., outputs...}. When this call recorded the last task of a running run, the reply
  ends with the meta and the completion records (flat HGETALL arrays): what the run's end is decided by, so the
  caller ends it without reading them.
  Fan-in is a counter per dependent (`waits`, set at submit), decremented once, by the call that records the
  completion: O(dependents), however wide the join. A second call (a re-run after a crash) records nothing and
  returns every dependent whose counter is at zero and which has not finished, so the caller re-adds the same
  deterministic job ids; a dependent with a completion record is never returned, so a trimmed job is never re-run.
  Nothing is released unless the workflow is running (or running its exit handlers, which are all that is left of it
  then): paused, failed, cancelled and timed-out runs start nothing new (resume releases what became ready while
  paused).
]]
--@include start-attempt
local task = ARGV[1]
local last = 10 + tonumber(ARGV[10])
local triggered = '0'
local ready = {}
local status = redis.call('HGET', KEYS[1], 'status') or ''
if redis.call('HSETNX', KEYS[3], task, ARGV[2]) == 1 then
  for i = 11, last do
    if redis.call('HINCRBY', KEYS[6], ARGV[i], -1) <= 0 then ready[#ready + 1] = ARGV[i] end
  end
  if ARGV[3] ~= '' then
    redis.call('HSET', KEYS[4], task, ARGV[3])
  end
  local raw = redis.call('HGET', KEYS[2], task)
  local state = raw and cjson.decode(raw) or {}
  state.s = ARGV[2]
  state.ft = tonumber(ARGV[5])
  -- An attempt that lost its worker's lock may finish after its re-run started: the attempt count never goes back.
  if ARGV[6] ~= '0' and tonumber(ARGV[6]) > (state.a or 0) then state.a = tonumber(ARGV[6]) end
  if ARGV[4] ~= '' then state.e = ARGV[4] end
  if ARGV[8] ~= '' then state.r = ARGV[8] end
  redis.call('HSET', KEYS[2], task, cjson.encode(state))
  if ARGV[4] ~= '' then
    redis.call('XADD', KEYS[5], '*', 'type', 'task.' .. ARGV[2], 'task', task, 'attempt', ARGV[6], 'at', ARGV[5], 'error', ARGV[4])
  elseif ARGV[8] ~= '' then
    redis.call('XADD', KEYS[5], '*', 'type', 'task.' .. ARGV[2], 'task', task, 'attempt', ARGV[6], 'at', ARGV[5], 'reason', ARGV[8])
  else
    redis.call('XADD', KEYS[5], '*', 'type', 'task.' .. ARGV[2], 'task', task, 'attempt', ARGV[6], 'at', ARGV[5])
  end
  if ARGV[7] == '1' and (status == 'running' or status == 'paused') then
    status = 'failing'
    redis.call('HSET', KEYS[1], 'status', 'failing', 'error', 'task ' .. task .. ' failed: ' .. ARGV[4])
    redis.call('XADD', KEYS[5], '*', 'type', 'workflow.failing', 'task', task, 'at', ARGV[5])
    triggered = '1'
  end
else
  for i = 11, last do
    if tonumber(redis.call('HGET', KEYS[6], ARGV[i]) or '0') <= 0 and redis.call('HEXISTS', KEYS[3], ARGV[i]) == 0 then
      ready[#ready + 1] = ARGV[i]
    end
  end
end
-- The caller that sees the last completion may end the run at once (rather than when the workflow job runs).
local done = '0'
if ARGV[9] ~= '0' and redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[9]) then done = '1' end
if status ~= 'running' and status ~= 'exiting' then
  return {status, triggered, done, '0', 0}
end
-- The dependent to run inline starts here if it is ready (and not recorded: an untargeted task is, from the start).
local next = ARGV[last + 1]
local start = false
if next and status == 'running' and redis.call('HEXISTS', KEYS[3], next) == 0 then
  for i = 1, #ready do
    if ready[i] == next then
      start = true
      table.remove(ready, i)
      break
    end
  end
end
local result = {status, triggered, done, start and '1' or '0', #ready}
for _, dependent in ipairs(ready) do
  result[#result + 1] = dependent
end
if start then
  local keys = {tasks = KEYS[2], fin = KEYS[3], out = KEYS[4], events = KEYS[5]}
  local s = last + 1
  startAttempt(result, keys, next, ARGV[s + 1], ARGV[s + 2], ARGV[s + 3], ARGV[s + 4], ARGV[s + 5], s + 7, tonumber(ARGV[s + 6]))
elseif done == '1' then
  result[#result + 1] = redis.call('HGETALL', KEYS[1])
  result[#result + 1] = redis.call('HGETALL', KEYS[3])
end
return result
