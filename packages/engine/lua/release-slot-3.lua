--[[
  Gives back an execution's slot and admits the oldest waiting executions into the free slots, each with a
  `starting` marker: if the caller dies before starting them, a worker's starting sweep does.
  KEYS[1] active set  KEYS[2] pending list  KEYS[3] starting markers
  ARGV[1] execution id (or '' to only fill free slots)  ARGV[2] the limit  ARGV[3] when the markers come due (ms)
  Returns the admitted execution ids, oldest first; the caller starts them.
]]
if ARGV[1] ~= '' then redis.call('SREM', KEYS[1], ARGV[1]) end
local admitted = {}
while redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) do
  local id = redis.call('LPOP', KEYS[2])
  if not id then break end
  redis.call('SADD', KEYS[1], id)
  redis.call('ZADD', KEYS[3], ARGV[3], id)
  admitted[#admitted + 1] = id
end
return admitted
