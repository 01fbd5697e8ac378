require 'tests.lua.helper'
local Watcher = require 'Watcher'

describe('Watcher', function()
  it('only looks at photos above the high-water mark taken at start', function()
    local w = Watcher.new { mark = Watcher.highest { 3, 9, 4 } }
    assert.equal(9, w.mark)
    assert.same({ 10, 12 }, w:newIds { 1, 9, 10, 12, 5 })
  end)

  it('waits until the import settles (same count twice), then processes', function()
    local w = Watcher.new { mark = 0 }
    assert.equal('idle', w:observe(0))
    assert.equal('wait', w:observe(5))   -- import running
    assert.equal('wait', w:observe(40))  -- still growing
    assert.equal('process', w:observe(40))
    w:processed { 41, 80, 60 }
    assert.equal(80, w.mark)
    assert.same({}, w:newIds { 41, 80 })
    assert.equal('idle', w:observe(0))
  end)

  it('does not lower the mark', function()
    local w = Watcher.new { mark = 50 }
    w:processed { 3 }
    assert.equal(50, w.mark)
  end)

  it('a loop runs only while it holds the current token, the setting is on and no stop was requested', function()
    local prefs = { watchImports = true, watcherToken = 'A' }
    assert.is_true(Watcher.shouldRun('A', prefs))
    prefs.watcherToken = 'B' -- a plug-in reload started a newer loop
    assert.is_false(Watcher.shouldRun('A', prefs))
    assert.is_true(Watcher.shouldRun('B', prefs))
    prefs.watcherStop = true -- shutdown
    assert.is_false(Watcher.shouldRun('B', prefs))
    prefs.watcherStop, prefs.watchImports = false, false -- setting turned off
    assert.is_false(Watcher.shouldRun('B', prefs))
    assert.is_false(Watcher.shouldRun('B', nil))
  end)
end)
