--[[
  Gives back an execution's slot and admits the oldest waiting executions into the free slots, each with a
  `starting` marker: if the caller dies before starting them, a worker's starting sweep does.
  KEYS[1] active set  KEYS[2] pending list  KEYS[3] starting markers
  ARGV[1] execution id (or '' to only fill free slots)  ARGV[2] the limit  ARGV[3] when the markers come due (ms)
  Returns the admitted execution ids, oldest first; the caller starts them. (finalize gives an ending run's slot
  back itself.)
]]
--@include give-slot
return giveSlot(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), ARGV[3])
