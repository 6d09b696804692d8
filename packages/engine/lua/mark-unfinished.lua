--[[
  Included by finalize and begin-exit (a line `--@include mark-unfinished` is replaced by this file when the engine
  loads its scripts): gives each task of ARGV[first ..] that has no completion record `mark`, once.
  markUnfinished(keys, mark, now, first), `keys` = {tasks, fin, events}. A task that was running when the run stopped
  (fail-fast, say) is cancelled; upstream_failed is for tasks that never ran.
]]
local function markUnfinished(keys, mark, now, first)
  for i = first, #ARGV do
    if redis.call('HSETNX', keys.fin, ARGV[i], mark) == 1 then
      local raw = redis.call('HGET', keys.tasks, ARGV[i])
      local state = raw and cjson.decode(raw) or {}
      local status = mark
      if state.s == 'running' and mark == 'upstream_failed' then status = 'cancelled' end
      if status ~= mark then redis.call('HSET', keys.fin, ARGV[i], status) end
      state.s = status
      state.ft = tonumber(now)
      redis.call('HSET', keys.tasks, ARGV[i], cjson.encode(state))
      redis.call('XADD', keys.events, '*', 'type', 'task.' .. status, 'task', ARGV[i], 'at', now)
    end
  end
end
