--[[ Mapping: verdicts -> stars, colour labels and pick/reject flags (pure, no imports).

Categories (the rows of the mapping table in the Plug-in Manager):
  keeper       best or only frame, no defect        default 3 stars, green, pick
  alternate    in a group, not its best, no defect   default 2 stars, blue, no flag
  closed_eyes  reject: closed eyes                   default 1 star, yellow, reject
  blurry       reject: blurry                        default 1 star, red, reject
  exposure     reject: bad exposure or misfire       default 1 star, purple, reject
  unsure       cannot tell                           nothing set

A mark of a mapping row is `nil` when that row leaves the mark alone. Ratings are 1-3: 4 and 5
stars stay the photographer's (the service refuses them too).

Marks use Lightroom's raw values: rating (nil or 0-5), color (colorNameForLabel: 'red', 'yellow',
'green', 'blue', 'purple', 'none'), flag (pickStatus: 1 pick, 0 none, -1 reject).
]]
local M = {}

M.CATEGORIES = { 'keeper', 'alternate', 'closed_eyes', 'blurry', 'exposure' }
M.REJECT_CATEGORIES = { 'closed_eyes', 'blurry', 'exposure' }
M.TITLES = {
  keeper = 'Keeper', alternate = 'Alternate', closed_eyes = 'Closed eyes', blurry = 'Blurry',
  exposure = 'Bad exposure / misfire', unsure = 'Unsure',
}
M.COLORS = { 'red', 'yellow', 'green', 'blue', 'purple', 'none' }
M.MAX_RATING = 3

M.DEFAULT = {
  keeper = { rating = 3, color = 'green', flag = 'pick' },
  alternate = { rating = 2, color = 'blue', flag = nil },
  closed_eyes = { rating = 1, color = 'yellow', flag = 'reject' },
  blurry = { rating = 1, color = 'red', flag = 'reject' },
  exposure = { rating = 1, color = 'purple', flag = 'reject' },
}

local VALID_COLOR = {}
for _, c in ipairs(M.COLORS) do VALID_COLOR[c] = true end

local FLAG_VALUE = { pick = 1, reject = -1, none = 0 }
local FLAG_NAME = { [1] = 'pick', [-1] = 'reject', [0] = 'none' }

function M.flagValue(name)
  if name == nil or name == '' or name == 'leave' then return nil end
  return FLAG_VALUE[name]
end

function M.flagName(value)
  return FLAG_NAME[value or 0]
end

-- The preference keys of one mapping cell, e.g. ('keeper', 'rating') -> 'map_keeper_rating'.
function M.prefKey(category, what)
  return 'map_' .. category .. '_' .. what
end

-- Normalises one row; bad values become nil (leave alone). Returns row, list of problems.
-- As in the service's settings, 0 / 'none' / 'leave' / -1 all mean "leave this mark alone".
function M.normaliseRow(row, problems, name)
  problems = problems or {}
  local out = {}
  row = type(row) == 'table' and row or {}
  local r = row.rating
  if type(r) == 'string' then r = tonumber(r) or r end
  if r ~= nil and r ~= 'leave' and r ~= 'none' and r ~= 0 and r ~= -1 then
    if type(r) == 'number' and r == math.floor(r) and r >= 1 and r <= M.MAX_RATING then
      out.rating = r
    elseif type(r) == 'number' and r == math.floor(r) and r > M.MAX_RATING and r <= 5 then
      problems[#problems + 1] = string.format('%s: %d stars are reserved for the photographer; using %d',
        tostring(name), r, M.MAX_RATING)
      out.rating = M.MAX_RATING
    else
      problems[#problems + 1] = string.format('%s: invalid rating %s', tostring(name), tostring(r))
    end
  end
  local c = row.color
  if type(c) == 'string' and c ~= '' and c ~= 'leave' and c:lower() ~= 'none' then
    c = c:lower()
    if VALID_COLOR[c] then
      out.color = c
    else
      problems[#problems + 1] = string.format('%s: invalid label colour %s', tostring(name), c)
    end
  end
  local f = row.flag
  if f ~= nil and f ~= '' and f ~= 'leave' and f ~= 'none' then
    if f == 'pick' or f == 'reject' then
      out.flag = f
    else
      problems[#problems + 1] = string.format('%s: invalid flag %s', tostring(name), tostring(f))
    end
  end
  return out, problems
end

-- Builds a mapping from flat preferences (map_<category>_<rating|color|flag>); a category with
-- no preferences at all gets the default row. Returns mapping, problems.
function M.fromPrefs(prefs)
  local mapping, problems = {}, {}
  prefs = prefs or {}
  for _, cat in ipairs(M.CATEGORIES) do
    local row, any = {}, false
    for _, what in ipairs { 'rating', 'color', 'flag' } do
      local v = prefs[M.prefKey(cat, what)]
      if v ~= nil then any = true end
      row[what] = v
    end
    if any then
      mapping[cat] = M.normaliseRow(row, problems, cat)
    else
      mapping[cat] = M.normaliseRow(M.DEFAULT[cat], problems, cat)
    end
  end
  return mapping, problems
end

-- The mapping as the service's request wants it: {keeper = {rating=, label=, flag=}, ...}.
-- `null` is the JSON null sentinel: every key is sent, because the service merges the request
-- over its defaults and an absent key would keep the default mark.
function M.toRequest(mapping, null)
  local out = {}
  for _, cat in ipairs(M.CATEGORIES) do
    local row = mapping[cat] or {}
    local function v(x) if x == nil then return null end return x end
    out[cat] = { rating = v(row.rating), label = v(row.color), flag = v(row.flag) }
  end
  return out
end

-- Which reject category a daemon result belongs to, from its analysis (exposure, then blur,
-- then eyes, matching the daemon's default priority); nil when the result is no reject.
function M.rejectCategory(result, mapping)
  if type(result) ~= 'table' or result.verdict ~= 'reject' then return nil end
  -- 1. the marks the daemon wrote identify the row when exactly one reject row matches them
  if mapping and (result.rating ~= nil or result.label ~= nil or result.flag ~= nil) then
    local hit, hits = nil, 0
    for _, cat in ipairs(M.REJECT_CATEGORIES) do
      local row = mapping[cat] or {}
      if row.rating == result.rating and row.color == result.label and row.flag == result.flag then
        hit, hits = cat, hits + 1
      end
    end
    if hits == 1 then return hit end
  end
  -- 2. the analysis
  local exposure = type(result.exposure) == 'table' and result.exposure.state
  if exposure == 'under' or exposure == 'over' or exposure == 'misfire' then return 'exposure' end
  if type(result.sharpness) == 'table' and result.sharpness.blurry == true then return 'blurry' end
  if type(result.eyes) == 'table' and result.eyes.state == 'closed' then return 'closed_eyes' end
  -- 3. the reasons text
  local reasons = type(result.reasons) == 'table' and table.concat(result.reasons, ' '):lower() or ''
  if reasons:find('expos') or reasons:find('misfire') then return 'exposure' end
  if reasons:find('blur') then return 'blurry' end
  if reasons:find('eye') then return 'closed_eyes' end
  return 'blurry'
end

-- The mapping category of a verdict (+ reject category); nil for unsure or unknown verdicts.
function M.category(verdict, rejectCategory)
  if verdict == 'keeper' or verdict == 'alternate' then return verdict end
  if verdict == 'reject' then return rejectCategory or 'blurry' end
  return nil
end

-- Desired marks for a category under a mapping: {rating=, color=, flag=} with nil = leave alone.
function M.marksFor(mapping, category)
  local row = category and mapping and mapping[category]
  if not row then return {} end
  return { rating = row.rating, color = row.color, flag = M.flagValue(row.flag) }
end

-- Desired marks from the daemon's own rating/label/flag (it applied the mapping we sent).
function M.marksFromResult(result)
  if type(result) ~= 'table' or result.ok == false then return {} end
  local rating = tonumber(result.rating)
  if rating and (rating ~= math.floor(rating) or rating < 0 or rating > M.MAX_RATING) then rating = nil end
  local color = type(result.label) == 'string' and result.label:lower() or nil
  if color and not VALID_COLOR[color] then color = nil end
  return { rating = rating, color = color, flag = M.flagValue(result.flag) }
end

return M
