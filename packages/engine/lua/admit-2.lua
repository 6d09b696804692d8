--[[
  Takes one of the MAX_CONCURRENT_WORKFLOWS slots, or queues the execution in FIFO order.
  KEYS[1] active set  KEYS[2] pending list
  ARGV[1] execution id  ARGV[2] the limit
  Returns 1 when admitted, 0 when queued. Idempotent.
]]
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  return 1
end
if not redis.call('LPOS', KEYS[2], ARGV[1]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
return 0
