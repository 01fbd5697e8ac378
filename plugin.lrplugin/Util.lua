--[[ Util: small pure helpers (no imports): chunking, number formatting, string helpers. ]]
local M = {}

-- Splits list into arrays of at most `size` items (size >= 1), keeping order.
function M.chunks(list, size)
  size = math.max(1, math.floor(tonumber(size) or 1))
  local out = {}
  for i, v in ipairs(list or {}) do
    local k = math.floor((i - 1) / size) + 1
    out[k] = out[k] or {}
    out[k][#out[k] + 1] = v
  end
  return out
end

-- 1870 -> "1,870"
function M.thousands(n)
  n = math.floor(tonumber(n) or 0)
  local s = tostring(math.abs(n))
  local out = s:reverse():gsub('(%d%d%d)', '%1,'):reverse()
  if out:sub(1, 1) == ',' then out = out:sub(2) end
  return (n < 0 and '-' or '') .. out
end

-- plural(1, 'photo') -> "1 photo"; plural(3, 'burst') -> "3 bursts"; irregular via third arg.
function M.plural(n, word, pluralWord)
  return M.thousands(n) .. ' ' .. (n == 1 and word or (pluralWord or (word .. 's')))
end

function M.trim(s)
  return (tostring(s or ''):gsub('^%s+', ''):gsub('%s+$', ''))
end

function M.leafName(path)
  return (tostring(path or ''):match('[^/\\]*$'))
end

-- Parses "http://host:port[/]" -> host, port (number) | nil, err
function M.parseUrl(url)
  url = M.trim(url)
  local host, port = url:match('^http://([%w%.%-]+):(%d+)/?$')
  if not host then
    host = url:match('^http://([%w%.%-]+)/?$')
    port = host and '80'
  end
  if not host then return nil, 'expected an address like http://127.0.0.1:47474' end
  return host, tonumber(port)
end

-- Shallow copy of an array.
function M.copy(list)
  local t = {}
  for i, v in ipairs(list or {}) do t[i] = v end
  return t
end

-- Lists at most `max` items then "and N more".
function M.listSome(items, max, sep)
  max = max or 10
  local shown = {}
  for i = 1, math.min(#items, max) do shown[i] = items[i] end
  local s = table.concat(shown, sep or '\n')
  if #items > max then s = s .. (sep or '\n') .. string.format('… and %s more (see the log)', M.thousands(#items - max)) end
  return s
end

return M
