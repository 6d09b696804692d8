--[[
  Marks a task attempt running and reads what the attempt needs, in one round trip.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events
  ARGV[1] task id  ARGV[2] attempt (every run of the handler counts: retries and re-runs after a lost worker)
  ARGV[3] now (ms)  ARGV[4] worker name
  ARGV[5] carrier job id, ARGV[6] its token: set when the attempt runs inline, in the job of the task it depends on
  (inline continuation); '' when the task's own job runs it
  ARGV[7] n: number of tasks whose status is wanted  ARGV[8] p: number of tasks whose outputs it reads
  ARGV[9 .. 8+n] those tasks (dependencies and read tasks; their terminal statuses are returned)
  ARGV[9+n .. 8+n+p] tasks whose outputs the task reads (the same block complete-task takes per start)
  Returns {workflow status, recorded status or '', recorded output or '', the attempt, dependency statuses...,
  outputs...}.
  A task whose completion is already recorded (a re-run after a crash) is not marked running again: the caller
  replays the recorded outcome instead of running the handler twice. Nothing is marked while the run is not running
  (or running its exit handlers: by then every other task has ended).
]]
--@include start-attempt
local task = ARGV[1]
local status = redis.call('HGET', KEYS[1], 'status') or ''
local recorded = redis.call('HGET', KEYS[3], task)
if recorded then
  return {status, recorded, redis.call('HGET', KEYS[4], task) or '', ARGV[2]}
end
if status ~= 'running' and status ~= 'exiting' then
  return {status, '', '', ARGV[2]}
end
local result = {status, '', ''}
local keys = {tasks = KEYS[2], fin = KEYS[3], out = KEYS[4], events = KEYS[5]}
startAttempt(result, keys, task, ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], 9, tonumber(ARGV[7]), #ARGV)
return result
