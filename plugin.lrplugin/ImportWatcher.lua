--[[ ImportWatcher: rating on import (opt-in: "Cull new imports automatically", off by default).

Lightroom has no import event. A background task, started by Init.lua (LrInitPlugin with
LrForceInitPlugin) or when the setting is turned on, polls every 20 s or more:
  * cheap: catalog:getAllPhotos() and its length only; when the count grew, the photos with a
    localIdentifier above the high-water mark (taken when the loop started) are the new ones, and
    only they get one batched plugin-field read (no full-catalog metadata scan);
  * it waits until the number of new photos without a cull status stops growing (import settled),
    then culls them in chunks through Culler.run (no dialogs, no bezels; errors go to the log);
  * a guard token in the plug-in preferences: a loop left over from a plug-in reload sees a newer
    token and exits; Shutdown.lua / ShutdownApp.lua set the stop flag.
The photographer's rating, label and flag are never used as a "processed" marker: the cullStatus
plugin field is.
]]
local LrApplication = import 'LrApplication'
local LrPrefs = import 'LrPrefs'
local LrTasks = import 'LrTasks'

local Culler = require 'Culler'
local Log = require 'Log'
local Summary = require 'Summary'
local Util = require 'Util'
local Watcher = require 'Watcher'

local M = {}

local function localIds(photos)
  local t = {}
  for i, p in ipairs(photos) do t[i] = p.localIdentifier end
  return t
end

-- Sleeps `seconds` in steps, returning false as soon as the loop should stop.
local function nap(seconds, token, prefs)
  local left = seconds
  while left > 0 do
    local step = math.min(left, 5)
    LrTasks.sleep(step)
    left = left - step
    if not Watcher.shouldRun(token, prefs) then return false end
  end
  return true
end

local function loop(token)
  local prefs = LrPrefs.prefsForPlugin()
  local catalog = LrApplication.activeCatalog()
  local s = Culler.settings()
  local all = catalog:getAllPhotos()
  local watcher = Watcher.new { mark = Watcher.highest(localIds(all)) }
  local lastTotal = #all
  Log.info('import watcher %s: started, %d photos in the catalog, watching for new ones', token, lastTotal)
  if not nap(s.watchStartDelay, token, prefs) then return end
  local failures = 0
  while Watcher.shouldRun(token, prefs) do
    s = Culler.settings()
    all = catalog:getAllPhotos()
    if #all ~= lastTotal or watcher.lastCount then
      lastTotal = #all
      local fresh = {}
      for _, p in ipairs(all) do
        if p.localIdentifier > watcher.mark then fresh[#fresh + 1] = p end
      end
      local pending = {}
      if #fresh > 0 then
        local status = catalog:batchGetPropertyForPlugin(fresh, _PLUGIN, { 'cullStatus' })
        for _, p in ipairs(fresh) do
          local st = status[p] and status[p].cullStatus
          if st == nil or st == '' then pending[#pending + 1] = p end
        end
      end
      local decision = watcher:observe(#pending)
      if decision == 'wait' then
        Log.info('import watcher: %d new photo(s), waiting for the import to settle', #pending)
      elseif decision == 'process' then
        Log.info('import watcher: culling %d new photo(s)', #pending)
        local handled, ok = {}, true
        for _, chunk in ipairs(Util.chunks(pending, s.watchChunk)) do
          if not Watcher.shouldRun(token, prefs) then ok = false break end
          local report, err = Culler.run(catalog, chunk, { settings = s, title = 'AutoCull: culling imported photos' })
          if not report then
            Log.warn('import watcher: %s', tostring(err))
            ok = false
            break
          end
          Log.info('import watcher: %s', Summary.line(report))
          if report.outcome ~= 'done' then ok = false break end
          for _, p in ipairs(chunk) do handled[#handled + 1] = p.localIdentifier end
        end
        if #handled > 0 then watcher:processed(handled) end
        if ok then failures = 0 else failures = failures + 1 end
      end
    end
    -- back off while the service is unavailable (at most 5 minutes between tries)
    local wait = s.watchPollSeconds * math.min(2 ^ failures, 15)
    if not nap(wait, token, prefs) then break end
  end
  Log.info('import watcher %s: stopped', token)
end

-- Starts a loop when the setting is on; a loop already running sees the new token and exits.
function M.start()
  local prefs = LrPrefs.prefsForPlugin()
  if not prefs.watchImports then
    prefs.watcherToken = nil
    return false
  end
  local token = string.format('%d-%d', os.time(), math.random(1, 1000000000))
  prefs.watcherToken = token
  prefs.watcherStop = false
  LrTasks.startAsyncTask(function()
    local ok, err = LrTasks.pcall(loop, token)
    if not ok then Log.error('import watcher failed: %s', tostring(err)) end
  end, 'AutoCull import watcher')
  return true
end

-- The stop flag, for the shutdown hooks.
function M.stop()
  local prefs = LrPrefs.prefsForPlugin()
  prefs.watcherStop = true
  prefs.watcherToken = nil
end

return M
