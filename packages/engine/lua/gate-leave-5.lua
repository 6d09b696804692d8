--[[
  Gives back a task's or parallel item's slots, and names the oldest members waiting for the slots now free: the
  caller wakes their parked jobs, which then take the slots through gate-enter (their place in the queue keeps them
  ahead of newcomers).
  KEYS[1] gate A's slots  KEYS[2] gate A's queue  KEYS[3] gate B's slots  KEYS[4] gate B's queue  KEYS[5] events
  ARGV[1] member  ARGV[2] now (ms)  ARGV[3] gate A's limit  ARGV[4] gate B's limit (0: no gate B)
  ARGV[5] the item's task id, or '' for a task  ARGV[6] the item's index  ARGV[7] the item's end (completed | failed)
  Returns the members to wake. Idempotent: a member that holds no slot gives back nothing and writes no event.
]]
local member = ARGV[1]
local gates = {{KEYS[1], KEYS[2], tonumber(ARGV[3])}}
if tonumber(ARGV[4]) > 0 then gates[2] = {KEYS[3], KEYS[4], tonumber(ARGV[4])} end
local left = false
local wake, seen = {}, {}
for _, gate in ipairs(gates) do
  if redis.call('SREM', gate[1], member) == 1 then left = true end
  local free = gate[3] - redis.call('SCARD', gate[1])
  if free > 0 then
    for _, next in ipairs(redis.call('ZRANGE', gate[2], 0, free - 1)) do
      if not seen[next] then
        seen[next] = true
        wake[#wake + 1] = next
      end
    end
  end
end
if left and ARGV[5] ~= '' then
  redis.call('XADD', KEYS[5], '*', 'type', 'item.finished', 'task', ARGV[5], 'item', ARGV[6], 'at', ARGV[2],
    'status', ARGV[7])
end
return wake
