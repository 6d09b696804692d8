--[[
  Stops a run's exit handlers at the end of their grace period: the run leaves `exiting` for `timing_out`, so no
  exit handler starts any more and none releases another; its workflow job then ends the run with the status it had
  decided before its exit handlers ran.
  KEYS[1] meta  KEYS[2] events
  ARGV[1] now (ms)  ARGV[2] grace period (ms), for the event
  Returns 1 when this call stopped them, 0 when the run was not running exit handlers.
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'exiting' then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'timing_out')
redis.call('XADD', KEYS[2], '*', 'type', 'workflow.exit_grace_expired', 'at', ARGV[1], 'error',
  'exit handlers still running after their grace period of ' .. ARGV[2] .. ' ms')
return 1
