--[[
  Records a task's completion exactly once and returns the dependents it makes ready.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events
  ARGV[1] task id  ARGV[2] terminal status  ARGV[3] output JSON or ''  ARGV[4] error or ''  ARGV[5] now (ms)
  ARGV[6] attempt  ARGV[7] '1' when this failure fails the workflow (fail-fast)
  ARGV[8] number of dependents, then per dependent: id, number of its dependencies, its dependencies...
  Returns {workflow status, '1' if this call started fail-fast, ready dependents...}.
  Idempotent: a second call (a re-run after a crash) records nothing and returns the same ready set, so the caller
  re-adds the same deterministic job ids, which BullMQ ignores while the jobs exist. Nothing is released unless the
  workflow is running: paused, failed, cancelled and timed-out runs start nothing new (resume releases what
  became ready while paused).
]]
local task = ARGV[1]
local triggered = '0'
if redis.call('HSETNX', KEYS[3], task, ARGV[2]) == 1 then
  if ARGV[3] ~= '' then
    redis.call('HSET', KEYS[4], task, ARGV[3])
  end
  local raw = redis.call('HGET', KEYS[2], task)
  local state = raw and cjson.decode(raw) or {}
  state.s = ARGV[2]
  state.ft = tonumber(ARGV[5])
  if ARGV[6] ~= '0' then state.a = tonumber(ARGV[6]) end
  if ARGV[4] ~= '' then state.e = ARGV[4] end
  redis.call('HSET', KEYS[2], task, cjson.encode(state))
  if ARGV[4] ~= '' then
    redis.call('XADD', KEYS[5], '*', 'type', 'task.' .. ARGV[2], 'task', task, 'attempt', ARGV[6], 'at', ARGV[5], 'error', ARGV[4])
  else
    redis.call('XADD', KEYS[5], '*', 'type', 'task.' .. ARGV[2], 'task', task, 'attempt', ARGV[6], 'at', ARGV[5])
  end
  local current = redis.call('HGET', KEYS[1], 'status')
  if ARGV[7] == '1' and (current == 'running' or current == 'paused') then
    redis.call('HSET', KEYS[1], 'status', 'failing', 'error', 'task ' .. task .. ' failed: ' .. ARGV[4])
    redis.call('XADD', KEYS[5], '*', 'type', 'workflow.failing', 'task', task, 'at', ARGV[5])
    triggered = '1'
  end
end
local status = redis.call('HGET', KEYS[1], 'status') or ''
local result = {status, triggered}
if status ~= 'running' then
  return result
end
local i = 9
for _ = 1, tonumber(ARGV[8]) do
  local dependent = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if redis.call('HEXISTS', KEYS[3], dependent) == 0 then
    local ready = true
    for j = i + 2, i + 1 + n do
      if redis.call('HEXISTS', KEYS[3], ARGV[j]) == 0 then
        ready = false
        break
      end
    end
    if ready then result[#result + 1] = dependent end
  end
  i = i + 2 + n
end
return result
