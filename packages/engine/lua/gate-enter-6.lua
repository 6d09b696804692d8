--[[
  Takes a slot of up to two concurrency gates (the run's `max_concurrency`, a parallel task's) for one task or
  parallel item, or queues it. First come, first served: a member may take a slot only if the members queued ahead
  of it would leave one free, so a newcomer never overtakes one that was woken for a freed slot.
  KEYS[1] gate A's slots  KEYS[2] gate A's queue  KEYS[3] gate B's slots  KEYS[4] gate B's queue  KEYS[5] events
  KEYS[6] the run's meta
  ARGV[1] member (a task id, or <task>.<attempt>.<item>)  ARGV[2] now (ms)  ARGV[3] gate A's limit
  ARGV[4] gate B's limit (0: no gate B)  ARGV[5] the item's task id, or '' for a task  ARGV[6] the item's index
  Returns {1} when the member holds a slot of every gate (it may run), {0, members to wake...} when it waits: it then
  waits in the queues of the gates that are full and in no other (there it would hold up members that can run; those
  it leaves at the head of a gate with a free slot are to be woken). Asking again while holding the slots is
  harmless. An item's start is an `item.started` event, written here with the slot it takes. In a run that is not
  running (paused, ending) nothing waits here: {1} without a slot, and the caller's start-task sees the status.
]]
local status = redis.call('HGET', KEYS[6], 'status')
if status ~= 'running' and status ~= 'exiting' then return {1} end
local member = ARGV[1]
local gates = {{KEYS[1], KEYS[2], tonumber(ARGV[3])}}
if tonumber(ARGV[4]) > 0 then gates[2] = {KEYS[3], KEYS[4], tonumber(ARGV[4])} end
local held, blocked = 0, {}
for i, gate in ipairs(gates) do
  if redis.call('SISMEMBER', gate[1], member) == 1 then
    held = held + 1
  else
    local ahead = redis.call('ZRANK', gate[2], member) or redis.call('ZCARD', gate[2])
    if redis.call('SCARD', gate[1]) + ahead >= gate[3] then blocked[#blocked + 1] = i end
  end
end
if held == #gates then return {1} end
if #blocked > 0 then
  local reply = {0}
  for i, gate in ipairs(gates) do
    local full = false
    for _, b in ipairs(blocked) do if b == i then full = true end end
    if full then
      redis.call('ZADD', gate[2], 'NX', ARGV[2], member)
    elseif redis.call('ZREM', gate[2], member) == 1 then
      local free = gate[3] - redis.call('SCARD', gate[1])
      if free > 0 then
        for _, next in ipairs(redis.call('ZRANGE', gate[2], 0, free - 1)) do reply[#reply + 1] = next end
      end
    end
  end
  return reply
end
for _, gate in ipairs(gates) do
  redis.call('SADD', gate[1], member)
  redis.call('ZREM', gate[2], member)
end
if ARGV[5] ~= '' then
  redis.call('XADD', KEYS[5], '*', 'type', 'item.started', 'task', ARGV[5], 'item', ARGV[6], 'at', ARGV[2])
end
return {1}
