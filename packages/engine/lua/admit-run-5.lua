--[[
  Admits a new run in the same round trip that creates it: takes one of the MAX_CONCURRENT_WORKFLOWS slots and marks
  the run running (tasks start only in a running run), or queues it in FIFO order.
  KEYS[1] active set  KEYS[2] pending list  KEYS[3] the run's meta  KEYS[4] the run's events  KEYS[5] deadlines
  ARGV[1] execution id  ARGV[2] the limit  ARGV[3] now (ms)  ARGV[4] the run's timeout (ms)
  Returns 1 when admitted (the caller then adds the run's jobs), 0 when queued. Idempotent.
]]
local admitted = redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1
if not admitted and redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  admitted = true
end
if admitted then
  if redis.call('HGET', KEYS[3], 'status') == 'pending' then
    redis.call('HSET', KEYS[3], 'status', 'running', 'started_at', ARGV[3])
    redis.call('XADD', KEYS[4], '*', 'type', 'workflow.started', 'at', ARGV[3])
    redis.call('ZADD', KEYS[5], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
  end
  return 1
end
if not redis.call('LPOS', KEYS[2], ARGV[1]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  redis.call('XADD', KEYS[4], '*', 'type', 'workflow.queued', 'at', ARGV[3])
end
return 0
