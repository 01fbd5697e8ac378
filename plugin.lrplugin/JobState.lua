--[[ JobState: the job-polling state machine (pure, no imports; the caller does the I/O).

Loop in the caller (Culler.lua):
    local job = JobState.new { total = n }
    job:submitted(response)                     -- the 202 body of POST /v1/jobs
    while true do
      if progress:isCanceled() then job:cancelRequested() end
      local a = job:step()
      if a.kind == 'sleep' then LrTasks.sleep(a.seconds)
      elseif a.kind == 'poll' then job:polled(Daemon.job(client, id, a.withResults))   -- status | nil, err
      elseif a.kind == 'cancel' then job:cancelled(Daemon.cancel(client, id))
      elseif a.kind == 'fetch' then job:fetched(Daemon.job(client, id, true))
      elseif a.kind == 'finish' then break end
    end
    job.outcome: 'done' | 'cancelled' | 'failed' | 'lost' (daemon unreachable) | 'stalled'
    job.results: the last results received (final for done/cancelled; the latest snapshot for lost)

Polls without results (cheap, `?results=0`) with a growing interval; every `snapshotEvery`
seconds of progress it asks for the results so far, so a daemon that dies mid-job still leaves
the photos that finished.
]]
local M = {}
M.__index = M

local FINAL = { done = true, cancelled = true, failed = true }

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({
    total = opts.total or 0,
    offset = opts.offset or 0,            -- photos of earlier jobs of the same cull (for the caption)
    grandTotal = opts.grandTotal,         -- all photos of the cull
    done = 0,
    groups = 0,
    state = 'submitting',
    phase = 'poll',
    interval = opts.pollMin or 0.25,
    pollMin = opts.pollMin or 0.25,
    pollMax = opts.pollMax or 2,
    maxNetErrors = opts.maxNetErrors or 5,
    snapshotEvery = opts.snapshotEvery or 10,
    stallSeconds = opts.stallSeconds or 900,
    netErrors = 0,
    sinceSnapshot = 0,
    snapshotDone = 0,
    lastProgressAt = nil,
    cancelWanted = false,
    cancelSent = false,
    sinceCancel = 0,
    cancelWait = opts.cancelWait or 30,
    outcome = nil,
    message = nil,
    results = nil,
    id = nil,
  }, M)
  return self
end

function M:submitted(resp)
  self.id = resp and resp.id
  self.state = resp and resp.state or 'queued'
  self.total = tonumber(resp and resp.total) or self.total
  self.phase = 'sleep'
end

function M:finish(outcome, message)
  self.outcome, self.message, self.phase = outcome, message, 'finish'
end

function M:cancelRequested()
  if not self.cancelWanted and self.phase ~= 'finish' then
    self.cancelWanted = true
  end
end

function M:step()
  if self.phase == 'finish' then return { kind = 'finish', outcome = self.outcome } end
  if self.cancelWanted and not self.cancelSent then
    self.cancelSent = true
    self.phase = 'awaitCancel'
    return { kind = 'cancel' }
  end
  if self.phase == 'sleep' then
    self.phase = 'poll'
    local s = self.interval
    self.sinceSnapshot = self.sinceSnapshot + s
    if self.cancelSent then self.sinceCancel = self.sinceCancel + s end
    return { kind = 'sleep', seconds = s }
  end
  if self.phase == 'poll' then
    self.phase = 'awaitPoll'
    local snapshot = self.sinceSnapshot >= self.snapshotEvery and self.done > self.snapshotDone
    if snapshot then self.sinceSnapshot = 0 end
    self.pollWithResults = snapshot
    return { kind = 'poll', withResults = snapshot }
  end
  if self.phase == 'fetch' then
    self.phase = 'awaitFetch'
    return { kind = 'fetch' }
  end
  error('JobState: step() while waiting for ' .. tostring(self.phase))
end

local function absorb(self, st, now)
  local done = tonumber(st.done)
  if done and done > self.done then
    self.done = done
    self.lastProgressAt = now
  end
  if self.lastProgressAt == nil then self.lastProgressAt = now end
  self.total = tonumber(st.total) or self.total
  self.groups = tonumber(st.groups) or self.groups
  self.state = st.state or self.state
  if type(st.results) == 'table' then
    self.results = st.results
    self.snapshotDone = self.done
  end
end

-- status: the decoded GET /v1/jobs/<id> body, or nil, err = {kind='network'|'http', status=, message=}
-- now: wall-clock seconds (os.time()), for the stall check; the poll count is not a clock (under a
-- simulated clock sleeps take no time).
function M:polled(st, err, now)
  if self.phase ~= 'awaitPoll' then return end
  if not st then
    if err and err.kind == 'http' and err.status == 404 then
      return self:finish('lost', 'The AutoCull service no longer knows this job (was it restarted?).')
    end
    self.netErrors = self.netErrors + 1
    if self.netErrors >= self.maxNetErrors then
      return self:finish('lost', 'The AutoCull service stopped responding: ' .. tostring(err and err.message or 'no answer'))
    end
    self.interval = math.min(self.pollMax * 2, self.interval * 2)
    self.phase = 'sleep'
    return
  end
  self.netErrors = 0
  absorb(self, st, now)
  if FINAL[self.state] then
    if self.pollWithResults and type(st.results) == 'table' then
      return self:finish(self.state, self.state == 'failed' and tostring(st.error or 'The job failed.') or nil)
    end
    self.phase = 'fetch'
    return
  end
  if now and self.lastProgressAt and now - self.lastProgressAt >= self.stallSeconds then
    return self:finish('stalled', string.format('No progress for %d seconds.', self.stallSeconds))
  end
  self.interval = math.min(self.pollMax, self.interval * 1.5)
  self.phase = 'sleep'
end

-- ok: the DELETE answer (truthy) or nil, err
function M:cancelled(ok, err)
  if self.phase ~= 'awaitCancel' then return end
  if ok or (err and err.kind == 'http') then
    -- cancelled, or the job had already ended (e.g. 404/409): fetch whatever finished
    self.phase = 'fetch'
    return
  end
  self:finish('lost', 'The AutoCull service stopped responding while cancelling: ' .. tostring(err and err.message))
end

function M:fetched(st, err, now)
  if self.phase ~= 'awaitFetch' then return end
  if not st then
    self.netErrors = self.netErrors + 1
    if self.netErrors >= self.maxNetErrors then
      return self:finish('lost', 'Could not fetch the results: ' .. tostring(err and err.message))
    end
    self.phase = 'fetch'
    return
  end
  absorb(self, st, now)
  if not FINAL[self.state] then
    -- still cancelling (the service finishes the photos in flight): poll until it has ended, but
    -- do not wait for ever
    if self.cancelSent and self.sinceCancel >= self.cancelWait then
      return self:finish('cancelled', 'The AutoCull service did not confirm the cancel in time.')
    end
    self.phase = 'sleep'
    return
  end
  self:finish(self.state, self.state == 'failed' and tostring(st.error or 'The job failed.') or nil)
end

-- "Analysing 412 of 1,870 — 3 groups found"
function M:caption(thousands)
  thousands = thousands or tostring
  if self.state == 'queued' or self.state == 'submitting' then
    return 'Waiting for the AutoCull service…'
  end
  local s = string.format('Analysing %s of %s', thousands(self.offset + self.done),
    thousands(self.grandTotal or self.total))
  if self.groups and self.groups > 0 then
    s = s .. string.format(' — %s %s found', thousands(self.groups),
      self.groups == 1 and 'burst or duplicate group' or 'bursts or duplicate groups')
  end
  if self.cancelWanted then s = 'Cancelling… ' .. s end
  return s
end

return M
