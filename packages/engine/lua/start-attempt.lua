--[[
  Included by start-task and complete-task (a line `--@include start-attempt` is replaced by this file when the
  engine loads its scripts): marks a task attempt running and reads what it needs.
  startAttempt(result, keys, task, asked, now, worker, carrierJob, carrierToken, first, n, last) appends to `result`
  the attempt recorded, then the terminal statuses of ARGV[first .. first+n-1] and the outputs of
  ARGV[first+n .. last].
  `keys` = {tasks, fin, out, events}. A delayed or waiting-children job comes back for the same attempt: one start
  event per attempt. carrierJob/carrierToken ('' for a task's own job): the job an inline attempt runs in and that
  job's token (this run of it).
]]
local function startAttempt(result, keys, task, asked, now, worker, carrierJob, carrierToken, first, n, last)
  local attempt = tonumber(asked)
  local raw = redis.call('HGET', keys.tasks, task)
  local state = raw and cjson.decode(raw) or {}
  -- An inline attempt whose carrier job ran again (its worker died, or lost the job's lock) is lost, whoever runs
  -- the task now: the task's own job (re-added by the carrier's replay) or the carrier's next run. The next counts.
  local inlineLost = state.s == 'running' and state.k and state.k ~= carrierToken
  if inlineLost and state.a and attempt <= state.a then attempt = state.a + 1 end
  if state.s ~= 'running' or state.a ~= attempt then
    -- A running attempt that did not end (retry-task keeps ended ones in `h`) lost its worker: this is a re-run.
    local history = state.h or {}
    local last = history[#history]
    if state.s == 'running' and state.a and state.a < attempt and not (last and last.a == state.a) then
      history[#history + 1] = {a = state.a, w = state.w, st = state.st, ft = tonumber(now), s = 'lost'}
      state.h = history
      redis.call('XADD', keys.events, '*', 'type', 'task.stalled', 'task', task, 'attempt', state.a, 'at', now, 'worker', state.w or '')
    end
    state.s = 'running'
    state.a = attempt
    state.st = tonumber(now)
    state.w = worker
    if carrierJob ~= '' then
      state.j = carrierJob
      state.k = carrierToken
    else
      state.j = nil
      state.k = nil
    end
    redis.call('HSET', keys.tasks, task, cjson.encode(state))
    redis.call('XADD', keys.events, '*', 'type', 'task.started', 'task', task, 'attempt', attempt, 'at', now, 'worker', worker)
  end
  result[#result + 1] = tostring(attempt)
  -- HMGET in slices rather than one HGET per task (a join reads as many statuses as it has dependencies); slices,
  -- because unpack() is limited by Lua's stack.
  local function read(key, from, to)
    for at = from, to, 1000 do
      local values = redis.call('HMGET', key, unpack(ARGV, at, math.min(at + 999, to)))
      for i = 1, #values do
        result[#result + 1] = values[i] or ''
      end
    end
  end
  read(keys.fin, first, first + n - 1)
  read(keys.out, first + n, last)
end
