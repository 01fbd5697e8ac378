--[[ PhotoInfo: batched catalog reads for a list of photos (no writes here).

  PhotoInfo.read(catalog, photos) -> list of entries, in order:
    { photo, uuid, path, name, fileFormat, isVirtualCopy, marks (Marks table),
      state = { prev, applied } (private fields), fields = { cullStatus, verdict, rejectReason, ... } }
One batchGetRawMetadata + one batchGetFormattedMetadata + one batchGetPropertyForPlugin for the
whole list (per-photo reads dominate the cost on large selections).
]]
local Fields = require 'Fields'
local Marks = require 'Marks'
local Util = require 'Util'

local M = {}

M.RAW_KEYS = { 'uuid', 'path', 'fileFormat', 'isVirtualCopy', 'rating', 'colorNameForLabel', 'pickStatus' }

function M.read(catalog, photos)
  local raw = catalog:batchGetRawMetadata(photos, M.RAW_KEYS)
  local fmt = catalog:batchGetFormattedMetadata(photos, { 'label' })
  local props = catalog:batchGetPropertyForPlugin(photos, _PLUGIN, Fields.ALL)
  local out = {}
  for i, photo in ipairs(photos) do
    local r = raw[photo] or {}
    local f = fmt[photo] or {}
    local p = props[photo] or {}
    out[i] = {
      photo = photo,
      uuid = r.uuid,
      path = r.path,
      name = Util.leafName(r.path),
      fileFormat = r.fileFormat,
      isVirtualCopy = r.isVirtualCopy == true,
      marks = Marks.fromCatalog(r, f.label),
      state = { prev = Marks.decode(p.prevMarks), applied = Marks.decode(p.appliedMarks) },
      fields = p,
    }
  end
  return out
end

return M
