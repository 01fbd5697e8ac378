--[[ Marks: the photographer's rating, colour label and flag, and how AutoCull may change them
(pure, no imports).

A marks table: { rating = nil|0..5, color = 'red'|...|'none', text = '<label text>', flag = -1|0|1 }.
`text` is the label text (getFormattedMetadata 'label'); it matters only for a custom label that is
not one of the five colours (color 'none', text non-empty).

Rules:
  * A photo whose marks the user set (any rating > 0, any label, any flag) is not touched unless
    `overwrite` is on; 4 and 5 stars are never lowered, even then.
  * Before AutoCull writes, it saves the marks that were there (`prev`) and what it wrote
    (`applied`) in private plugin fields. Re-culling keeps the original `prev`.
  * Restoring (Clear Auto-Cull Marks) puts back `prev` for every mark still as AutoCull left it;
    a mark the user changed since is the user's and stays.
  * Whether Lightroom stores "no rating" as nil or 0 is unverified: comparisons treat nil and 0
    alike; restores write back exactly the value that was read.
]]
local Json = require 'Json'

local M = {}

local function rating0(r) return r or 0 end

function M.normalise(m)
  m = type(m) == 'table' and m or {}
  local color = type(m.color) == 'string' and m.color:lower() or 'none'
  if color == '' then color = 'none' end
  local rating = tonumber(m.rating)
  return { rating = rating, color = color, text = type(m.text) == 'string' and m.text or '', flag = tonumber(m.flag) or 0 }
end

-- Marks read from the catalog: raw values (rating, colorNameForLabel, pickStatus) + label text.
function M.fromCatalog(raw, labelText)
  raw = raw or {}
  return M.normalise { rating = raw.rating, color = raw.colorNameForLabel, flag = raw.pickStatus, text = labelText }
end

-- True when the user has set any mark.
function M.hasUserMarks(m)
  m = M.normalise(m)
  return rating0(m.rating) > 0 or m.color ~= 'none' or m.text ~= '' or m.flag ~= 0
end

-- Same rating (nil == 0), colour and flag (label text ignored: it depends on the label set).
function M.same(a, b)
  a, b = M.normalise(a), M.normalise(b)
  return rating0(a.rating) == rating0(b.rating) and a.color == b.color and a.flag == b.flag
end

function M.encode(m)
  if m == nil then return nil end
  m = M.normalise(m)
  return (Json.encode { rating = m.rating == nil and Json.null or m.rating, color = m.color, text = m.text, flag = m.flag })
end

function M.decode(s)
  if type(s) ~= 'string' or s == '' then return nil end
  local t = Json.decode(s)
  if type(t) ~= 'table' or t == Json.null then return nil end
  return M.normalise(t)
end

-- Plan for writing AutoCull's marks on one photo.
--   current  : marks now in the catalog
--   desired  : {rating=, color=, flag=} with nil = leave alone (e.g. unsure -> {})
--   state    : { prev = marks|nil, applied = marks|nil } from the private plugin fields
--   overwrite: the "overwrite existing marks" setting
-- Returns { set = {rating=, color=, flag=} (only changes; `unset` lists keys to set to nil),
--           prev = marks to store (nil: keep the stored value), applied = marks to store,
--           status = 'culled' | 'kept-marks', userChanged = bool }
function M.plan(current, desired, state, overwrite)
  current, desired, state = M.normalise(current), desired or {}, state or {}
  local prev, applied = state.prev, state.applied
  local ours = applied ~= nil and prev ~= nil and M.same(current, applied)
  local base = ours and M.normalise(prev) or current

  if M.hasUserMarks(base) and not overwrite then
    if ours then
      -- AutoCull marks from an earlier run with "overwrite" on, over the user's marks: leave them.
      return { set = {}, unset = {}, status = 'kept-marks', keep = true }
    end
    return { set = {}, unset = {}, status = 'kept-marks', clearState = applied ~= nil }
  end

  local target = {
    rating = desired.rating, color = desired.color, flag = desired.flag,
  }
  if target.rating == nil then target.rating = base.rating end
  if target.color == nil then target.color = base.color end
  if target.flag == nil then target.flag = base.flag end
  if rating0(base.rating) >= 4 then target.rating = base.rating end -- 4 and 5 stars stay hers
  -- A custom label text survives when the mapping leaves the label alone.
  local keepText = desired.color == nil and base.color == 'none' and base.text ~= ''

  local set, unset = {}, {}
  if rating0(target.rating) ~= rating0(current.rating) or (target.rating == nil) ~= (current.rating == nil) then
    if target.rating == nil then unset[#unset + 1] = 'rating' else set.rating = target.rating end
  end
  if keepText then
    if current.color ~= 'none' or current.text ~= base.text then set.text = base.text end
  elseif target.color ~= current.color then
    set.color = target.color
  end
  if target.flag ~= current.flag then set.flag = target.flag end

  return {
    set = set, unset = unset, status = 'culled',
    prev = base,
    applied = { rating = target.rating, color = keepText and 'none' or target.color, flag = target.flag },
  }
end

-- Plan for restoring one photo (Clear Auto-Cull Marks). Returns { set, unset, conflicts = {keys} }.
function M.restore(current, prev, applied)
  current = M.normalise(current)
  local set, unset, conflicts = {}, {}, {}
  if prev == nil or applied == nil then return { set = set, unset = unset, conflicts = conflicts } end
  prev, applied = M.normalise(prev), M.normalise(applied)
  -- rating
  if rating0(current.rating) == rating0(applied.rating) then
    if prev.rating == nil then
      if current.rating ~= nil then unset[#unset + 1] = 'rating' end
    elseif prev.rating ~= current.rating then
      set.rating = prev.rating
    end
  else
    conflicts[#conflicts + 1] = 'rating'
  end
  -- label
  if current.color == applied.color then
    if prev.color == 'none' and prev.text ~= '' then
      if current.text ~= prev.text or current.color ~= 'none' then set.text = prev.text end
    elseif prev.color ~= current.color then
      set.color = prev.color
    end
  else
    conflicts[#conflicts + 1] = 'label'
  end
  -- flag
  if current.flag == applied.flag then
    if prev.flag ~= current.flag then set.flag = prev.flag end
  else
    conflicts[#conflicts + 1] = 'flag'
  end
  return { set = set, unset = unset, conflicts = conflicts }
end

return M
