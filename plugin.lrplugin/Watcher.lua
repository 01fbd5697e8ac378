--[[ Watcher: decisions of the rating-on-import loop (pure, no imports).

Lightroom has no import event. The loop (ImportWatcher.lua) polls cheaply: it lists the catalog's
photos (no metadata read) and looks only at photos whose localIdentifier is above a high-water mark
taken when the loop started; only those few get one batched plugin-field read. It culls them once
their number stops growing between two polls (the import has settled).

  local w = Watcher.new { mark = highestLocalIdAtStart }
  w:newIds(listOfLocalIds)        -> ids above the mark (candidates to check)
  w:observe(pendingCount)         -> 'idle' | 'wait' | 'process'
  w:processed(ids)                -> raises the mark past the handled photos
  Watcher.shouldRun(token, prefs) -> false when a newer loop or a stop request took over
]]
local M = {}
M.__index = M

function M.new(opts)
  opts = opts or {}
  return setmetatable({ mark = opts.mark or 0, lastCount = nil, stableNeeded = opts.stableNeeded or 1, stable = 0 }, M)
end

-- The highest localIdentifier of a list of ids (0 for none).
function M.highest(ids)
  local h = 0
  for _, id in ipairs(ids or {}) do
    if type(id) == 'number' and id > h then h = id end
  end
  return h
end

function M:newIds(ids)
  local out = {}
  for _, id in ipairs(ids or {}) do
    if type(id) == 'number' and id > self.mark then out[#out + 1] = id end
  end
  return out
end

-- pendingCount: how many new photos still lack a cull status.
function M:observe(pendingCount)
  if pendingCount == 0 then
    self.lastCount, self.stable = 0, 0
    return 'idle'
  end
  if self.lastCount == pendingCount then
    self.stable = self.stable + 1
  else
    self.stable = 0
  end
  self.lastCount = pendingCount
  if self.stable >= self.stableNeeded then
    return 'process'
  end
  return 'wait'
end

function M:processed(ids)
  local h = M.highest(ids)
  if h > self.mark then self.mark = h end
  self.lastCount, self.stable = nil, 0
end

-- The loop keeps running only while it holds the current token and no stop was requested.
function M.shouldRun(token, prefs)
  if type(prefs) ~= 'table' and type(prefs) ~= 'userdata' then return false end
  if prefs.watcherStop then return false end
  if not prefs.watchImports then return false end
  return prefs.watcherToken == token
end

return M
