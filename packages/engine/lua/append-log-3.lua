--[[
  Appends lines to one task attempt's log, keeping at most a cap of bytes per attempt: the line that would pass it
  is replaced by one marker line saying so, and later lines are dropped. An end entry (how the attempt ended) is
  always written. A run that has ended (its meta has a TTL) gives the log its TTL; a run that is gone gets nothing.
  KEYS[1] the attempt's log stream  KEYS[2] the run's log index (hash)  KEYS[3] meta
  ARGV[1] index field (`<task>:<attempt>`)  ARGV[2] cap (bytes)  ARGV[3] now (ms)  ARGV[4] the marker's text
  ARGV[5 ..] entries, four each: stream ('log', 'stdout', 'stderr' or 'end'), level, text, epoch ms
  Returns how many entries were written.
]]
local ttl = redis.call('PTTL', KEYS[3])
if ttl == -2 then
  return 0
end
local cap = tonumber(ARGV[2])
local used = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local written = 0
for i = 5, #ARGV, 4 do
  local stream, level, text, at = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if stream == 'end' then
    redis.call('XADD', KEYS[1], '*', 's', 'end', 'l', level, 'm', text, 't', at)
    written = written + 1
  elseif used <= cap then
    local size = #text + 16
    if used + size > cap then
      redis.call('XADD', KEYS[1], '*', 's', 'log', 'l', 'warn', 'm', ARGV[4], 't', ARGV[3])
      used = cap + 1
    else
      redis.call('XADD', KEYS[1], '*', 's', stream, 'l', level, 'm', text, 't', at)
      used = used + size
    end
    written = written + 1
  end
end
redis.call('HSET', KEYS[2], ARGV[1], used)
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return written
