--[[
  Makes `channel` the run's final-message channel unless it has one: for a bus request whose correlation id names a
  run it did not create (an HTTP request won the race, or created it earlier). Exactly one caller gets it.
  KEYS[1] the run's meta
  ARGV[1] the channel
  Returns -1 when the run does not exist, 0 when it has a channel already, 1 when this call set it and the run has
  not ended (the end sends the final message there), 2 when it set it and the run has ended (the caller sends it).
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if redis.call('HSETNX', KEYS[1], 'respond_to', ARGV[1]) == 0 then return 0 end
if status == 'completed' or status == 'failed' or status == 'cancelled' or status == 'timed_out' then return 2 end
return 1
