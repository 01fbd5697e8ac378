--[[ Fields: the plugin metadata fields written for a daemon result (pure, no imports).

Field ids are declared in MetadataDefinition.lua (searchable ones show in the Metadata panel's
AutoCull tagset and work in smart collections). All values are strings (or nil to clear).
]]
local M = {}

-- Visible, searchable fields, in panel order.
M.VISIBLE = {
  { id = 'cullStatus', title = 'Cull status' },
  { id = 'verdict', title = 'Verdict' },
  { id = 'rejectReason', title = 'Reject reason' },
  { id = 'reasons', title = 'Reasons' },
  { id = 'sharpness', title = 'Sharpness' },
  { id = 'eyes', title = 'Eyes' },
  { id = 'exposure', title = 'Exposure' },
  { id = 'groupId', title = 'Group' },
  { id = 'groupKind', title = 'Group kind' },
  { id = 'groupBest', title = 'Best of group' },
  { id = 'judgedFrom', title = 'Judged from' },
  { id = 'cullError', title = 'Cull error' },
}
-- Private fields (no title: not shown): the marks before AutoCull, and what it wrote.
M.PRIVATE = { 'prevMarks', 'appliedMarks' }

M.ALL = {}
for _, f in ipairs(M.VISIBLE) do M.ALL[#M.ALL + 1] = f.id end
for _, id in ipairs(M.PRIVATE) do M.ALL[#M.ALL + 1] = id end

M.STATUS = {
  culled = 'culled',          -- marks written
  keptMarks = 'kept marks',   -- analysed; the photographer's own marks were kept
  error = 'error',            -- the daemon could not read the photo
}

local function num(x, fmt)
  if type(x) ~= 'number' then return nil end
  return string.format(fmt or '%.2f', x)
end

local function str(x)
  if type(x) == 'string' and x ~= '' then return x end
  if type(x) == 'number' then return tostring(x) end
  return nil
end

function M.sharpnessText(s)
  if type(s) ~= 'table' then return nil end
  local word
  if s.blurry == true then word = 'blurry' elseif s.blurry == false then word = 'sharp' else word = 'unsure' end
  local p = num(s.probability)
  local region = str(s.region)
  local detail = {}
  if p then detail[#detail + 1] = 'blur ' .. p end
  if region then detail[#detail + 1] = region end
  if #detail > 0 then word = word .. ' (' .. table.concat(detail, ', ') .. ')' end
  return word
end

function M.eyesText(e)
  if type(e) ~= 'table' then return nil end
  return str(e.state)
end

function M.exposureText(e)
  if type(e) ~= 'table' then return nil end
  return str(e.state)
end

-- Field values for one result. status: one of M.STATUS; judgedFrom: 'original' | 'preview'.
function M.fromResult(result, status, rejectReason, judgedFrom)
  local v = {}
  for _, f in ipairs(M.VISIBLE) do v[f.id] = false end -- false = clear (nil) when written
  v.cullStatus = status
  v.judgedFrom = judgedFrom
  if type(result) ~= 'table' then return v end
  if result.ok == false then
    v.cullStatus = M.STATUS.error
    v.cullError = str(result.error) or 'unknown error'
    return v
  end
  v.verdict = str(result.verdict)
  v.rejectReason = rejectReason
  if type(result.reasons) == 'table' then
    local parts = {}
    for _, r in ipairs(result.reasons) do if type(r) == 'string' then parts[#parts + 1] = r end end
    v.reasons = #parts > 0 and table.concat(parts, '; ') or nil
  end
  v.sharpness = M.sharpnessText(result.sharpness)
  v.eyes = M.eyesText(result.eyes)
  v.exposure = M.exposureText(result.exposure)
  if type(result.group) == 'table' then
    v.groupId = str(result.group.id)
    v.groupKind = str(result.group.kind)
    if result.group.best == true then v.groupBest = 'yes' elseif result.group.best == false then v.groupBest = 'no' end
  end
  for k, x in pairs(v) do if x == nil then v[k] = false end end
  return v
end

return M
