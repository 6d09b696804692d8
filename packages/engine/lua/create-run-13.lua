--[[
  Creates a run in one step: claims its idempotency key (if it has one), writes the definition, meta, first events,
  index entry, fan-in counters and up-front completions, and admits it (marking it running, with its deadline and a
  `starting` marker the workers sweep) or queues it. Either all of it happens or, when the key is already claimed,
  none: no crash can leave a claim without its run.
  KEYS[1] the idempotency key (any key when ARGV[2] is 0)  KEYS[2] def  KEYS[3] meta  KEYS[4] events  KEYS[5] index
  KEYS[6] waits  KEYS[7] fin  KEYS[8] out  KEYS[9] tasks  KEYS[10] active set  KEYS[11] pending list
  KEYS[12] deadlines  KEYS[13] starting markers
  ARGV[1] execution id  ARGV[2] claim TTL (ms; 0: no idempotency key)  ARGV[3] fingerprint of the request
  ARGV[4] definition JSON  ARGV[5] layout JSON {meta, waits, fin, out, tasks: flat field/value lists, events: lists}
  ARGV[6] created at (ms)  ARGV[7] concurrency limit (-1: write only, no admission)  ARGV[8] now (ms)
  ARGV[9] the run's timeout (ms)  ARGV[10] how long after admission an unlaunched run counts as orphaned (ms)
  Returns {1, admitted (1|0)} when created, {0, execution id, fingerprint} of the run that holds the key.
  Touches one run's keys and the global ones: a single primary, like the rest of admission.
]]
local id = ARGV[1]
if tonumber(ARGV[2]) > 0 then
  local held = redis.call('HMGET', KEYS[1], 'execution_id', 'fingerprint')
  if held[1] then return { 0, held[1], held[2] or '' } end
  redis.call('HSET', KEYS[1], 'execution_id', id, 'fingerprint', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end

local layout = cjson.decode(ARGV[5])
-- HSET in chunks: unpack() of a list longer than Lua's C stack (about 8,000) fails.
local function hsetAll(key, fields)
  for i = 1, #fields, 1000 do
    redis.call('HSET', key, unpack(fields, i, math.min(i + 999, #fields)))
  end
end

redis.call('SET', KEYS[2], ARGV[4])
hsetAll(KEYS[3], layout.meta)
for _, fields in ipairs(layout.events) do
  redis.call('XADD', KEYS[4], '*', unpack(fields))
end
redis.call('ZADD', KEYS[5], ARGV[6], id)
hsetAll(KEYS[6], layout.waits)
hsetAll(KEYS[7], layout.fin)
hsetAll(KEYS[8], layout.out)
hsetAll(KEYS[9], layout.tasks)

local limit = tonumber(ARGV[7])
if limit < 0 then return { 1, 0 } end
local at = tonumber(ARGV[8])
if redis.call('SCARD', KEYS[10]) < limit then
  redis.call('SADD', KEYS[10], id)
  redis.call('HSET', KEYS[3], 'status', 'running', 'started_at', ARGV[8])
  redis.call('XADD', KEYS[4], '*', 'type', 'workflow.started', 'at', ARGV[8])
  redis.call('ZADD', KEYS[12], at + tonumber(ARGV[9]), id)
  redis.call('ZADD', KEYS[13], at + tonumber(ARGV[10]), id)
  return { 1, 1 }
end
redis.call('RPUSH', KEYS[11], id)
redis.call('XADD', KEYS[4], '*', 'type', 'workflow.queued', 'at', ARGV[8])
return { 1, 0 }
