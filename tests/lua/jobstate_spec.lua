require 'tests.lua.helper'
local JobState = require 'JobState'

-- Drives the machine with scripted answers; returns the actions taken.
local function drive(js, answers, opts)
  opts = opts or {}
  local actions, now, i = {}, 0, 0
  for _ = 1, 200 do
    if opts.cancelAt and #actions >= opts.cancelAt then js:cancelRequested() end
    local a = js:step()
    actions[#actions + 1] = a.kind
    if a.kind == 'finish' then break end
    if a.kind == 'sleep' then
      now = now + a.seconds
    else
      i = i + 1
      local ans = answers[i] or answers[#answers]
      if type(ans) == 'function' then ans = ans(a) end
      local st, err = ans[1], ans[2]
      if a.kind == 'poll' then js:polled(st, err, opts.clock and opts.clock(i) or now)
      elseif a.kind == 'cancel' then js:cancelled(st, err)
      elseif a.kind == 'fetch' then js:fetched(st, err, now) end
    end
  end
  return actions
end

local function count(list, kind)
  local n = 0
  for _, k in ipairs(list) do if k == kind then n = n + 1 end end
  return n
end

describe('JobState', function()
  it('polls without results until done, then fetches the results once', function()
    local js = JobState.new { total = 3 }
    js:submitted { id = 'j1', state = 'queued', done = 0, total = 3 }
    local polls = 0
    local actions = drive(js, {
      function(a)
        if a.kind == 'fetch' then
          return { { id = 'j1', state = 'done', done = 3, total = 3, groups = 1, results = { { id = 'a' } } } }
        end
        polls = polls + 1
        assert.is_false(a.withResults)
        if polls < 3 then return { { state = 'running', done = polls, total = 3 } } end
        return { { state = 'done', done = 3, total = 3, groups = 1 } }
      end,
    })
    assert.equal('done', js.outcome)
    assert.equal(1, count(actions, 'fetch'))
    assert.equal(3, polls)
    assert.equal(1, #js.results)
    assert.equal(1, js.groups)
    assert.matches('Analysing 3 of 3', js:caption())
  end)

  it('counts photos of earlier jobs of the same cull in the caption', function()
    local js = JobState.new { total = 5000, offset = 5000, grandTotal = 12000 }
    js:submitted { id = 'j', state = 'running', total = 5000 }
    js:step()
    js:step()
    js:polled({ state = 'running', done = 412, total = 5000, groups = 3 }, nil, 0)
    assert.equal('Analysing 5,412 of 12,000 — 3 bursts or duplicate groups found', js:caption(require('Util').thousands))
  end)

  it('backs off: the poll interval grows up to its maximum', function()
    local js = JobState.new { total = 1, pollMin = 0.25, pollMax = 2 }
    js:submitted { id = 'j', state = 'queued' }
    local sleeps = {}
    for _ = 1, 30 do
      local a = js:step()
      if a.kind == 'sleep' then sleeps[#sleeps + 1] = a.seconds else js:polled({ state = 'running', done = 0 }, nil, 0) end
    end
    assert.equal(0.25, sleeps[1])
    assert.is_true(sleeps[2] > sleeps[1])
    assert.equal(2, sleeps[#sleeps])
  end)

  it('cancel: sends DELETE once, waits for the job to end, then fetches what finished', function()
    local js = JobState.new { total = 10 }
    js:submitted { id = 'j', state = 'queued' }
    local deleted = 0
    local actions = drive(js, {
      function(a)
        if a.kind == 'cancel' then deleted = deleted + 1 return { { id = 'j', state = 'cancelling' } } end
        if a.kind == 'fetch' then
          if deleted > 0 and js.state ~= 'cancelled' then return { { state = 'cancelled', done = 4, results = { {}, {}, {}, {} } } } end
        end
        return { { state = 'running', done = 4 } }
      end,
    }, { cancelAt = 3 })
    assert.equal(1, deleted)
    assert.equal(1, count(actions, 'cancel'))
    assert.equal('cancelled', js.outcome)
    assert.equal(4, #js.results)
  end)

  it('a daemon that stops answering ends as lost, keeping the last snapshot of results', function()
    local js = JobState.new { total = 5, snapshotEvery = 1, maxNetErrors = 3 }
    js:submitted { id = 'j', state = 'queued' }
    local polls = 0
    drive(js, {
      function(a)
        polls = polls + 1
        if polls <= 4 then
          return { { state = 'running', done = polls, results = a.withResults and { { id = polls } } or nil } }
        end
        return { nil, { kind = 'network', message = 'Could not connect to the server.' } }
      end,
    })
    assert.equal('lost', js.outcome)
    assert.matches('stopped responding', js.message)
    assert.is_table(js.results)
    assert.is_true(#js.results >= 1)
  end)

  it('a job unknown to the service (404) ends as lost at once', function()
    local js = JobState.new { total = 5 }
    js:submitted { id = 'j', state = 'queued' }
    drive(js, { { nil, { kind = 'http', status = 404, message = 'HTTP 404' } } })
    assert.equal('lost', js.outcome)
  end)

  it('a failed job is reported with the service\'s error', function()
    local js = JobState.new { total = 2 }
    js:submitted { id = 'j', state = 'queued' }
    drive(js, { { { state = 'failed', done = 0, error = 'ValueError: boom' } } })
    assert.equal('failed', js.outcome)
    assert.matches('boom', js.message)
  end)

  it('stalls after stallSeconds of wall-clock time without progress', function()
    local js = JobState.new { total = 2, stallSeconds = 60 }
    js:submitted { id = 'j', state = 'queued' }
    drive(js, { { { state = 'running', done = 1 } } }, { clock = function(i) return i * 10 end })
    assert.equal('stalled', js.outcome)
  end)
end)
