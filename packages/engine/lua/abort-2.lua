--[[
  Stops a running (or paused) execution: no new task starts (the release scripts check the status), running
  ones are told to abort by the caller. The execution's job then finalises it with the matching terminal status.
  KEYS[1] meta  KEYS[2] events
  ARGV[1] new status (cancelling | timing_out)  ARGV[2] reason  ARGV[3] now (ms)
  Returns the status before the call.
]]
local current = redis.call('HGET', KEYS[1], 'status') or ''
if current == 'running' or current == 'paused' then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'error', ARGV[2])
  redis.call('XADD', KEYS[2], '*', 'type', 'workflow.' .. ARGV[1], 'at', ARGV[3], 'error', ARGV[2])
end
return current
