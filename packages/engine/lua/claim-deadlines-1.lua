--[[
  Takes the runs whose deadline has passed out of the deadline set, so exactly one worker times each one out.
  KEYS[1] deadlines
  ARGV[1] now (ms)  ARGV[2] at most this many
  Returns their execution ids. A worker that dies before aborting them leaves them to recovery's deadline check.
]]
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #due > 0 then
  redis.call('ZREM', KEYS[1], unpack(due))
end
return due
