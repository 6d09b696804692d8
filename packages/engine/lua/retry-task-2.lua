--[[
  Ends a failed attempt that will be retried: keeps it in the task's history and appends `task.retrying`.
  KEYS[1] tasks  KEYS[2] events
  ARGV[1] task id  ARGV[2] attempt  ARGV[3] now (ms)  ARGV[4] error  ARGV[5] how it ended (failed, timed_out)
  The history (`h`) holds the attempts that ended before the current one, so the happy path writes none of it;
  start-task tells a retry (its previous attempt is in `h`) from a re-run after a lost worker (it is not).
]]
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local state = raw and cjson.decode(raw) or {}
local attempt = tonumber(ARGV[2])
if state.a == attempt then
  local history = state.h or {}
  history[#history + 1] = {a = attempt, w = state.w, st = state.st, ft = tonumber(ARGV[3]), s = ARGV[5], e = ARGV[4]}
  state.h = history
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(state))
end
redis.call('XADD', KEYS[2], '*', 'type', 'task.retrying', 'task', ARGV[1], 'attempt', ARGV[2], 'at', ARGV[3], 'error', ARGV[4])
return 1
