--[[
  Takes the runs whose `starting` marker is due (admitted at least the grace ago, and no worker has yet seen their
  first jobs queued) for one sweeper: their markers move `lease` ms on, so a sweeper that dies leaves them to the next.
  KEYS[1] starting markers
  ARGV[1] now (ms)  ARGV[2] at most this many  ARGV[3] lease (ms)
  Returns their execution ids; the caller removes each marker once the run's jobs are known to be queued.
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local later = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, id in ipairs(due) do
  redis.call('ZADD', KEYS[1], later, id)
end
return due
