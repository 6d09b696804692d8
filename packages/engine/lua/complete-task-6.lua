--[[
  Records a task's completion exactly once and returns the dependents it makes ready.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events  KEYS[6] waits
  ARGV[1] task id  ARGV[2] terminal status  ARGV[3] output JSON or ''  ARGV[4] error or ''  ARGV[5] now (ms)
  ARGV[6] attempt  ARGV[7] '1' when this failure fails the workflow (fail-fast)  ARGV[8] why it was skipped or ''
  ARGV[9] the run's number of tasks, or '0': then the reply says whether every one has a completion record now
  ARGV[10] k: the number of the task's dependents  ARGV[11 .. 10+k] those dependents
  Then (inline continuation) ARGV[11+k] m, the number of dependents to start in the same call if this completion
  makes them ready (the job's next task, then branches beside it), each as a block: its id, attempt, now, worker,
  carrier job id, carrier token, n, p, its n wanted tasks and its p read tasks (start-task's arguments).
  Returns {workflow status, '1' if this call started fail-fast, '1' if every task is recorded, s, r, the r ready
  dependents it did not start..., then for each of the s it started, in the order asked: its id and what
  start-task returns after its status (the attempt, statuses..., outputs...)}. When this call recorded the last
  task of a running run, the reply ends with the meta and the completion records (flat HGETALL arrays): what the
  run's end is decided by, so the caller ends it without reading them.
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
-- The dependents to run inline start here if they are ready (and not recorded: an untargeted task is, from the start).
local blocks = {}
local at = last + 2
for _ = 1, tonumber(ARGV[last + 1] or '0') do
  local n, p = tonumber(ARGV[at + 6]), tonumber(ARGV[at + 7])
  local id = ARGV[at]
  if status == 'running' and redis.call('HEXISTS', KEYS[3], id) == 0 then
    for i = 1, #ready do
      if ready[i] == id then
        blocks[#blocks + 1] = at
        table.remove(ready, i)
        break
      end
    end
  end
  at = at + 8 + n + p
end
local result = {status, triggered, done, #blocks, #ready}
for _, dependent in ipairs(ready) do
  result[#result + 1] = dependent
end
local keys = {tasks = KEYS[2], fin = KEYS[3], out = KEYS[4], events = KEYS[5]}
for _, b in ipairs(blocks) do
  local n, p = tonumber(ARGV[b + 6]), tonumber(ARGV[b + 7])
  result[#result + 1] = ARGV[b]
  startAttempt(result, keys, ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], b + 8, n, b + 7 + n + p)
end
if #blocks == 0 and done == '1' then
  result[#result + 1] = redis.call('HGETALL', KEYS[1])
  result[#result + 1] = redis.call('HGETALL', KEYS[3])
end
return result
