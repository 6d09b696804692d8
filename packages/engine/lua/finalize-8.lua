--[[
  Ends an execution once: terminal status, tasks that never finished marked, TTL on every key, a final event and a
  notification on the finished channel.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events  KEYS[6] waits  KEYS[7] def
  KEYS[8] deadlines (the run leaves it: nothing is left to time out)
  ARGV[1] execution id  ARGV[2] final status  ARGV[3] error or ''  ARGV[4] now (ms)  ARGV[5] TTL (ms)
  ARGV[6] status for tasks that never finished  ARGV[7] finished channel  ARGV[8 ..] tasks that never finished
  Returns 1 when this call ended the execution, 0 when it had already ended.
]]
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'completed' or current == 'failed' or current == 'cancelled' or current == 'timed_out' then
  return 0
end
for i = 8, #ARGV do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[6]) == 1 then
    local raw = redis.call('HGET', KEYS[2], ARGV[i])
    local state = raw and cjson.decode(raw) or {}
    -- A task that was running when the run stopped (fail-fast, say) is cancelled; upstream_failed is for tasks that
    -- never ran.
    local mark = ARGV[6]
    if state.s == 'running' and mark == 'upstream_failed' then mark = 'cancelled' end
    if mark ~= ARGV[6] then redis.call('HSET', KEYS[3], ARGV[i], mark) end
    state.s = mark
    state.ft = tonumber(ARGV[4])
    redis.call('HSET', KEYS[2], ARGV[i], cjson.encode(state))
    redis.call('XADD', KEYS[5], '*', 'type', 'task.' .. mark, 'task', ARGV[i], 'at', ARGV[4])
  end
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[4])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'error', ARGV[3])
  redis.call('XADD', KEYS[5], '*', 'type', 'workflow.' .. ARGV[2], 'at', ARGV[4], 'error', ARGV[3])
else
  redis.call('XADD', KEYS[5], '*', 'type', 'workflow.' .. ARGV[2], 'at', ARGV[4])
end
local ttl = tonumber(ARGV[5])
for i = 1, 7 do
  redis.call('PEXPIRE', KEYS[i], ttl)
end
redis.call('ZREM', KEYS[8], ARGV[1])
local correlation = redis.call('HGET', KEYS[1], 'correlation_id') or ''
redis.call('PUBLISH', ARGV[7], cjson.encode({ execution_id = ARGV[1], status = ARGV[2], correlation_id = correlation }))
return 1
