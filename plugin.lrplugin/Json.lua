--[[ Json: a small JSON encoder/decoder (Lightroom ships none).

Pure Lua 5.1, no imports, so it is unit-tested directly (tests/lua/json_spec.lua).

  Json.encode(value)  -> string | nil, err
  Json.decode(text)   -> value  | nil, err

Decoding: objects become tables with string keys; arrays become 1-based tables; `null` inside an
object leaves the key absent (nil), `null` inside an array becomes Json.null (so positions survive).
`\uXXXX` escapes (with surrogate pairs) become UTF-8. Numbers become Lua numbers.

Encoding: a table is an array when it is marked with Json.array() or its keys are exactly 1..n
(n > 0); otherwise an object (keys must be strings or numbers). An empty unmarked table encodes as
{}; Json.array({}) as []. Json.null encodes as null. Strings are assumed to be UTF-8 and are passed
through, with control characters, quotes and backslashes escaped. NaN and infinities are errors.
]]
local M = {}

M.null = setmetatable({}, { __tostring = function() return 'null' end })

local ARRAY_MT = { __jsonarray = true }

-- Marks t (default: a new table) as a JSON array, also when empty.
function M.array(t)
  return setmetatable(t or {}, ARRAY_MT)
end

function M.isNull(v)
  return v == M.null
end

---------------------------------------------------------------- encode

local ESCAPES = {
  ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
}

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format('\\u%04x', c:byte())
  end) .. '"'
end

local function isArray(t)
  if getmetatable(t) == ARRAY_MT then return true, #t end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  if n == 0 then return false, 0 end
  for i = 1, n do
    if t[i] == nil then return false, n end
  end
  return true, n
end

local encodeValue

local function encodeTable(t, out, seen)
  if seen[t] then error('cannot encode a table that contains itself', 0) end
  seen[t] = true
  local arr, n = isArray(t)
  if arr then
    out[#out + 1] = '['
    for i = 1, n do
      if i > 1 then out[#out + 1] = ',' end
      encodeValue(t[i], out, seen)
    end
    out[#out + 1] = ']'
  else
    local keys = {}
    for k in pairs(t) do
      local kt = type(k)
      if kt ~= 'string' and kt ~= 'number' then
        error('cannot encode a table key of type ' .. kt, 0)
      end
      keys[#keys + 1] = tostring(k)
    end
    table.sort(keys) -- stable output
    out[#out + 1] = '{'
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = ',' end
      out[#out + 1] = quote(k)
      out[#out + 1] = ':'
      local v = t[k]
      if v == nil then v = t[tonumber(k)] end
      encodeValue(v, out, seen)
    end
    out[#out + 1] = '}'
  end
  seen[t] = nil
end

function encodeValue(v, out, seen)
  local tv = type(v)
  if v == nil or v == M.null then
    out[#out + 1] = 'null'
  elseif tv == 'boolean' then
    out[#out + 1] = v and 'true' or 'false'
  elseif tv == 'number' then
    if v ~= v or v == math.huge or v == -math.huge then
      error('cannot encode NaN or infinity', 0)
    end
    if v == math.floor(v) and math.abs(v) < 1e15 then
      out[#out + 1] = string.format('%d', v)
    else
      out[#out + 1] = string.format('%.17g', v)
    end
  elseif tv == 'string' then
    out[#out + 1] = quote(v)
  elseif tv == 'table' then
    encodeTable(v, out, seen)
  else
    error('cannot encode a value of type ' .. tv, 0)
  end
end

function M.encode(value)
  local out = {}
  local ok, err = pcall(encodeValue, value, out, {})
  if not ok then return nil, 'Json.encode: ' .. tostring(err) end
  return table.concat(out)
end

---------------------------------------------------------------- decode

local function utf8(cp)
  if cp < 0x80 then
    return string.char(cp)
  elseif cp < 0x800 then
    return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
  elseif cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local UNESCAPE = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t' }

local function fail(text, pos, what)
  local line, col = 1, 1
  for i = 1, math.min(pos - 1, #text) do
    if text:sub(i, i) == '\n' then line, col = line + 1, 1 else col = col + 1 end
  end
  error(string.format('%s at line %d, column %d', what, line, col), 0)
end

local function skip(text, pos)
  return text:find('[^ \t\r\n]', pos) or #text + 1
end

local decodeValue

local function decodeString(text, pos)
  -- pos is at the opening quote
  local parts, i = {}, pos + 1
  while true do
    local j = text:find('["\\%c]', i)
    if not j then fail(text, pos, 'unterminated string') end
    local c = text:sub(j, j)
    parts[#parts + 1] = text:sub(i, j - 1)
    if c == '"' then
      return table.concat(parts), j + 1
    elseif c == '\\' then
      local e = text:sub(j + 1, j + 1)
      if e == 'u' then
        local hex = text:match('^%x%x%x%x', j + 2)
        if not hex then fail(text, j, 'bad \\u escape') end
        local cp, nextPos = tonumber(hex, 16), j + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          local low = text:match('^\\u(%x%x%x%x)', nextPos)
          local lo = low and tonumber(low, 16)
          if lo and lo >= 0xDC00 and lo <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            nextPos = nextPos + 6
          else
            cp = 0xFFFD -- lone high surrogate
          end
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          cp = 0xFFFD -- lone low surrogate
        end
        parts[#parts + 1] = utf8(cp)
        i = nextPos
      elseif UNESCAPE[e] then
        parts[#parts + 1] = UNESCAPE[e]
        i = j + 2
      else
        fail(text, j, 'bad escape')
      end
    else
      fail(text, j, 'control character in string')
    end
  end
end

local function decodeNumber(text, pos)
  local s = text:match('^-?%d+%.?%d*[eE]?[-+]?%d*', pos)
  local n = s and s ~= '' and tonumber(s)
  if not n or not s:match('^-?%d') or s:match('^-?0%d') or s:match('%.$') or s:match('%.[eE]') then
    fail(text, pos, 'bad number')
  end
  return n, pos + #s
end

local function decodeArray(text, pos, depth)
  local t, n = {}, 0
  pos = skip(text, pos + 1)
  if text:sub(pos, pos) == ']' then return t, pos + 1 end
  while true do
    local v
    v, pos = decodeValue(text, pos, depth)
    n = n + 1
    if v == nil then v = M.null end
    t[n] = v
    pos = skip(text, pos)
    local c = text:sub(pos, pos)
    if c == ']' then return t, pos + 1 end
    if c ~= ',' then fail(text, pos, "expected ',' or ']'") end
    pos = skip(text, pos + 1)
  end
end

local function decodeObject(text, pos, depth)
  local t = {}
  pos = skip(text, pos + 1)
  if text:sub(pos, pos) == '}' then return t, pos + 1 end
  while true do
    if text:sub(pos, pos) ~= '"' then fail(text, pos, 'expected a string key') end
    local k
    k, pos = decodeString(text, pos)
    pos = skip(text, pos)
    if text:sub(pos, pos) ~= ':' then fail(text, pos, "expected ':'") end
    local v
    v, pos = decodeValue(text, skip(text, pos + 1), depth)
    t[k] = v -- null leaves the key absent
    pos = skip(text, pos)
    local c = text:sub(pos, pos)
    if c == '}' then return t, pos + 1 end
    if c ~= ',' then fail(text, pos, "expected ',' or '}'") end
    pos = skip(text, pos + 1)
  end
end

function decodeValue(text, pos, depth)
  pos = skip(text, pos)
  if depth > 200 then fail(text, pos, 'nested too deeply') end
  local c = text:sub(pos, pos)
  if c == '{' then return decodeObject(text, pos, depth + 1) end
  if c == '[' then return decodeArray(text, pos, depth + 1) end
  if c == '"' then return decodeString(text, pos) end
  -- Python's json module writes NaN / Infinity for such floats: accepted, so one odd value does not
  -- make a whole job's results unreadable.
  if text:sub(pos, pos + 2) == 'NaN' then return 0 / 0, pos + 3 end
  if text:sub(pos, pos + 7) == 'Infinity' then return math.huge, pos + 8 end
  if text:sub(pos, pos + 8) == '-Infinity' then return -math.huge, pos + 9 end
  if c == '-' or c:match('%d') then return decodeNumber(text, pos) end
  if text:sub(pos, pos + 3) == 'true' then return true, pos + 4 end
  if text:sub(pos, pos + 4) == 'false' then return false, pos + 5 end
  if text:sub(pos, pos + 3) == 'null' then return nil, pos + 4 end
  if c == '' then fail(text, pos, 'unexpected end of input') end
  fail(text, pos, 'unexpected character ' .. string.format('%q', c))
end

function M.decode(text)
  if type(text) ~= 'string' then return nil, 'Json.decode: expected a string, got ' .. type(text) end
  local ok, value, pos = pcall(decodeValue, text, 1, 0)
  if not ok then return nil, 'Json.decode: ' .. tostring(value) end
  pos = skip(text, pos)
  if pos <= #text then
    local ok2, err = pcall(fail, text, pos, 'trailing characters')
    return nil, 'Json.decode: ' .. tostring(ok2 or err)
  end
  if value == nil then return M.null end
  return value
end

return M
