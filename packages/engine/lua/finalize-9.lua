--[[
  Ends an execution once: terminal status, tasks that never finished marked, TTL on every key, a final event and a
  notification on the finished channel.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events  KEYS[6] waits  KEYS[7] def
  KEYS[8] deadlines (the run leaves it: nothing is left to time out)  KEYS[9] the task-log index (given the TTL)
  ARGV[1] execution id  ARGV[2] final status  ARGV[3] error or ''  ARGV[4] now (ms)  ARGV[5] TTL (ms)
  ARGV[6] status for tasks that never finished  ARGV[7] finished channel  ARGV[8 ..] tasks that never finished
  Returns 0 when the execution had already ended; when this call ended it, {1, respond_to or '', the task-log
  index's fields...}: what the caller does next without reading it again (the bus reply, the log streams' TTL).
]]
--@include mark-unfinished
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'completed' or current == 'failed' or current == 'cancelled' or current == 'timed_out' then
  return 0
end
markUnfinished({ tasks = KEYS[2], fin = KEYS[3], events = KEYS[5] }, ARGV[6], ARGV[4], 8)
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
local logs = redis.call('HKEYS', KEYS[9])
if #logs > 0 then redis.call('PEXPIRE', KEYS[9], ttl) end
redis.call('ZREM', KEYS[8], ARGV[1])
local fields = redis.call('HMGET', KEYS[1], 'correlation_id', 'respond_to')
local correlation = fields[1] or ''
redis.call('PUBLISH', ARGV[7], cjson.encode({ execution_id = ARGV[1], status = ARGV[2], correlation_id = correlation }))
local reply = { 1, fields[2] or '' }
for i = 1, #logs do reply[#reply + 1] = logs[i] end
return reply
