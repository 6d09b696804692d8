--[[
  Ends an execution once: terminal status, tasks that never finished marked, TTL on every key, a final event and a
  notification on the finished channel.
  KEYS[1] meta  KEYS[2] tasks  KEYS[3] fin  KEYS[4] out  KEYS[5] events  KEYS[6] waits  KEYS[7] def
  KEYS[8] deadlines (the run leaves it: nothing is left to time out)  KEYS[9] the task-log index (given the TTL)
  KEYS[10] active set  KEYS[11] pending list  KEYS[12] starting markers (the run's slot is given back, as
  release-slot does)
  ARGV[1] execution id  ARGV[2] final status  ARGV[3] error or ''  ARGV[4] now (ms)  ARGV[5] TTL (ms)
  ARGV[6] status for tasks that never finished  ARGV[7] finished channel
  ARGV[8] the most bytes of record (meta, task states, outputs) the finished message may carry
  ARGV[9] the admission limit  ARGV[10] when admitted runs' starting markers come due (ms)  ARGV[11 ..] tasks that
  never finished
  Returns 0 when the execution had already ended; when this call ended it, {1, respond_to or '', the record for
  the bus reply or 0, the runs admitted into its slot, the task-log index's fields...}: what the caller does next
  without reading it again (the bus reply, the admitted runs to start, the log streams' TTL). The record ({meta, task states, outputs}, each a flat HGETALL) is read only when
  someone waits for it: a bus reply (respond_to) goes back to the caller, a submit that waits (`awaited`) gets it in
  the finished message when it fits ARGV[8], so its API answers without reading it.
]]
--@include mark-unfinished
--@include give-slot
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'completed' or current == 'failed' or current == 'cancelled' or current == 'timed_out' then
  return 0
end
markUnfinished({ tasks = KEYS[2], fin = KEYS[3], events = KEYS[5] }, ARGV[6], ARGV[4], 11)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[4])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'error', ARGV[3])
  redis.call('XADD', KEYS[5], '*', 'type', 'workflow.' .. ARGV[2], 'at', ARGV[4], 'error', ARGV[3])
else
  redis.call('XADD', KEYS[5], '*', 'type', 'workflow.' .. ARGV[2], 'at', ARGV[4])
end
local ttl = tonumber(ARGV[5])
for i = 1, 7 do
  redis.call('PEXPIRE', KEYS[i], ttl)
end
local logs = redis.call('HKEYS', KEYS[9])
if #logs > 0 then redis.call('PEXPIRE', KEYS[9], ttl) end
redis.call('ZREM', KEYS[8], ARGV[1])
local fields = redis.call('HMGET', KEYS[1], 'correlation_id', 'respond_to', 'awaited')
local message = { execution_id = ARGV[1], status = ARGV[2], correlation_id = fields[1] or '' }
local respond, awaited = fields[2] and fields[2] ~= '', fields[3] == '1'
local record = 0
if respond or awaited then
  local meta, tasks, out = redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[4])
  record = { meta, tasks, out }
  if awaited then
    local size, cap = 0, tonumber(ARGV[8])
    for _, hash in ipairs(record) do
      for i = 1, #hash do size = size + #hash[i] end
    end
    if size <= cap then message.record = { meta = meta, tasks = tasks, out = out } end
  end
end
redis.call('PUBLISH', ARGV[7], cjson.encode(message))
-- Only a bus reply needs the record back here: the finished message already carries an awaited one.
local admitted = giveSlot(KEYS[10], KEYS[11], KEYS[12], ARGV[1], tonumber(ARGV[9]), ARGV[10])
local reply = { 1, fields[2] or '', respond and record or 0, admitted }
for i = 1, #logs do reply[#reply + 1] = logs[i] end
return reply
