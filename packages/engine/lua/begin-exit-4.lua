--[[
  Ends a run's own tasks and starts its exit handlers (`on_exit`): tasks that never finished are marked, the status
  the run will end with is decided and kept, and the run moves to `exiting`, in which only exit handlers start.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] events
  ARGV[1] the status the run will end with  ARGV[2] its error or ''  ARGV[3] now (ms)
  ARGV[4] status for tasks that never finished  ARGV[5] what exit handlers see as ${workflow} (JSON)
  ARGV[6] epoch ms by which the exit handlers must be done  ARGV[7 ..] tasks that never finished
  Returns 1 when this call started the exit handlers, 0 when the run had already ended or started them.
]]
--@include mark-unfinished
local current = redis.call('HGET', KEYS[1], 'status') or ''
if current ~= 'running' and current ~= 'failing' and current ~= 'cancelling' and current ~= 'timing_out' then
  return 0
end
markUnfinished({ tasks = KEYS[2], fin = KEYS[3], events = KEYS[4] }, ARGV[4], ARGV[3], 7)
redis.call('HSET', KEYS[1], 'status', 'exiting', 'exit_status', ARGV[1], 'exit_error', ARGV[2], 'exit', ARGV[5],
  'exit_deadline', ARGV[6])
redis.call('XADD', KEYS[4], '*', 'type', 'workflow.exiting', 'at', ARGV[3], 'status', ARGV[1])
return 1
