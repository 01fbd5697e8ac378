--[[ CatalogWriter: every catalog write of the plug-in (the only module calling withWriteAccessDo).

Writes go in chunks, each in its own catalog:withWriteAccessDo(actionName, fn, {timeout = 30}) so
Lightroom waits for a busy catalog instead of failing, and no block holds the catalog long. All
chunks of one command carry the same action name, so the Undo menu reads "Undo Auto-Cull"
(on macOS consecutive blocks merge into one step named after the last). No HTTP, sleeping or
reading happens inside a block: plans are computed before (Marks.plan).
]]
local LrTasks = import 'LrTasks'

local Fields = require 'Fields'
local Log = require 'Log'
local Marks = require 'Marks'
local Util = require 'Util'

local M = {}

M.ACTION_CULL = 'Auto-Cull'
M.ACTION_CLEAR = 'Clear Auto-Cull Marks'
M.ACTION_FLAGS = 'Apply Auto-Cull Flags'
M.ACTION_COLLECTIONS = 'Create AutoCull Collections'
M.TIMEOUT = { timeout = 30 }

-- Runs fn(item) for every item, `size` per write block. Returns the items whose block failed
-- (catalog busy past the timeout, or an error inside: that block is rolled back) and a message.
function M.chunked(catalog, actionName, items, size, fn, onChunk)
  local failed, lastErr = {}, nil
  local written = 0
  for _, chunk in ipairs(Util.chunks(items, size)) do
    local ok, result = LrTasks.pcall(function()
      return catalog:withWriteAccessDo(actionName, function()
        for _, item in ipairs(chunk) do fn(item) end
      end, M.TIMEOUT)
    end)
    if ok and (result == 'executed' or result == nil) then
      written = written + #chunk
    else
      lastErr = ok and ('the catalog was busy (' .. tostring(result) .. ')') or tostring(result)
      Log.error('%s: a write block of %d photo(s) failed: %s', actionName, #chunk, lastErr)
      for _, item in ipairs(chunk) do failed[#failed + 1] = item end
    end
    if onChunk then onChunk(written, #items) end
    LrTasks.yield()
  end
  return failed, lastErr
end

local function setMarks(photo, plan)
  if plan.set.rating ~= nil then photo:setRawMetadata('rating', plan.set.rating) end
  for _, k in ipairs(plan.unset or {}) do
    if k == 'rating' then photo:setRawMetadata('rating', nil) end
  end
  if plan.set.color ~= nil then photo:setRawMetadata('colorNameForLabel', plan.set.color) end
  if plan.set.text ~= nil then photo:setRawMetadata('label', plan.set.text) end
  if plan.set.flag ~= nil then photo:setRawMetadata('pickStatus', plan.set.flag) end
end

-- Writes a plugin field unless it already holds that value (`old`: the value read before).
local function setField(photo, id, value, old)
  if value == false then value = nil end
  if value == old then return end
  photo:setPropertyForPlugin(_PLUGIN, id, value)
end

local function setFields(entry, values)
  for _, f in ipairs(Fields.VISIBLE) do setField(entry.photo, f.id, values[f.id], entry.fields[f.id]) end
end

local function setState(entry, plan)
  if plan.keep then return end
  if plan.clearState then
    setField(entry.photo, 'prevMarks', nil, entry.fields.prevMarks)
    setField(entry.photo, 'appliedMarks', nil, entry.fields.appliedMarks)
  elseif plan.prev then
    setField(entry.photo, 'prevMarks', Marks.encode(plan.prev), entry.fields.prevMarks)
    setField(entry.photo, 'appliedMarks', Marks.encode(plan.applied), entry.fields.appliedMarks)
  end
end

-- items: { entry (PhotoInfo), plan (Marks.plan or nil for failed photos), values (Fields.fromResult) }
function M.writeResults(catalog, items, size, actionName, onChunk)
  return M.chunked(catalog, actionName or M.ACTION_CULL, items, size, function(item)
    if item.plan then
      setMarks(item.entry.photo, item.plan)
      setState(item.entry, item.plan)
    end
    setFields(item.entry, item.values)
  end, onChunk)
end

-- items: { entry, plan = Marks.plan } (Apply Auto-Cull Flags: marks and state only, and the status)
function M.writeMarks(catalog, items, size, onChunk)
  return M.chunked(catalog, M.ACTION_FLAGS, items, size, function(item)
    setMarks(item.entry.photo, item.plan)
    setState(item.entry, item.plan)
    setField(item.entry.photo, 'cullStatus',
      item.plan.status == 'culled' and Fields.STATUS.culled or Fields.STATUS.keptMarks, item.entry.fields.cullStatus)
  end, onChunk)
end

-- items: { entry, restore = Marks.restore plan } (Clear Auto-Cull Marks: marks back, fields cleared)
function M.clear(catalog, items, size, onChunk)
  return M.chunked(catalog, M.ACTION_CLEAR, items, size, function(item)
    setMarks(item.entry.photo, item.restore)
    for _, id in ipairs(Fields.ALL) do setField(item.entry.photo, id, nil, item.entry.fields[id]) end
  end, onChunk)
end

-- The "AutoCull" collection set with smart collections over the searchable plugin fields.
function M.smartCollections(pluginId)
  local function text(field, op, value)
    return { criteria = 'sdktext:' .. pluginId .. '.' .. field, operation = op, value = value, value2 = '' }
  end
  return {
    { name = 'Rejects', search = text('verdict', '==', 'reject') },
    { name = 'Keepers', search = text('verdict', '==', 'keeper') },
    { name = 'Closed eyes', search = text('eyes', '==', 'closed') },
    { name = 'Blurry', search = text('sharpness', 'beginsWith', 'blurry') },
    { name = 'Bursts', search = text('groupKind', '==', 'burst') },
    { name = 'Not readable', search = text('cullStatus', '==', 'error') },
  }
end

function M.createCollections(catalog, pluginId)
  local names = {}
  local ok, result = LrTasks.pcall(function()
    return catalog:withWriteAccessDo(M.ACTION_COLLECTIONS, function()
      local set = catalog:createCollectionSet('AutoCull', nil, true)
      for _, c in ipairs(M.smartCollections(pluginId)) do
        if catalog:createSmartCollection(c.name, c.search, set, true) then names[#names + 1] = c.name end
      end
    end, M.TIMEOUT)
  end)
  if not ok then return nil, tostring(result) end
  if result ~= nil and result ~= 'executed' then return nil, 'the catalog was busy (' .. tostring(result) .. ')' end
  return names
end

return M
