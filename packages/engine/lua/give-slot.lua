--[[
  Included by release-slot and finalize: gives back an execution's slot and admits the oldest waiting executions
  into the free slots, each with a `starting` marker (if the caller dies before starting them, a worker's starting
  sweep does). giveSlot(active set, pending list, starting markers, execution id or '' to only fill free slots,
  the limit, when the markers come due (ms)) returns the admitted execution ids, oldest first.
]]
local function giveSlot(active, pending, starting, id, limit, due)
  if id ~= '' then redis.call('SREM', active, id) end
  local admitted = {}
  while redis.call('SCARD', active) < limit do
    local next = redis.call('LPOP', pending)
    if not next then break end
    redis.call('SADD', active, next)
    redis.call('ZADD', starting, due, next)
    admitted[#admitted + 1] = next
  end
  return admitted
end
