--[[ Launch: the daemon's command line and version check (pure, no imports).

Lightroom started from the Dock or the Start menu has no shell PATH, so the backend is started by
the absolute path the photographer sets in the Plug-in Manager: either the backend's Python
interpreter (then `-m autocull serve` is added) or the `autocull` launcher itself.
LrTasks.execute runs the line through /bin/sh on macOS and cmd.exe on Windows, and returns only the
exit status, so the output goes to a log file and the process is detached (`&` / `start /B`).
]]
local M = {}

M.PLUGIN_VERSION = '0.1.0'
M.SCHEMA = 1

local function isPython(path)
  local leaf = (path:match('[^/\\]*$') or ''):lower()
  return leaf:match('^pythonw?[%d%.]*$') ~= nil or leaf:match('^pythonw?[%d%.]*%.exe$') ~= nil
end
M.isPython = isPython

-- POSIX shell quoting: 'it'\''s'
function M.shQuote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- cmd.exe quoting: double quotes (a path cannot contain ").
function M.winQuote(s)
  return '"' .. tostring(s):gsub('"', '') .. '"'
end

-- The argument list (without the program) for `serve` on a port.
function M.args(launcher, port)
  local a = {}
  if isPython(launcher) then
    a[#a + 1] = '-m'
    a[#a + 1] = 'autocull'
  end
  a[#a + 1] = 'serve'
  a[#a + 1] = '--port'
  a[#a + 1] = tostring(math.floor(tonumber(port) or 47474))
  return a
end

-- The whole line for LrTasks.execute. Returns cmd | nil, err.
function M.command(launcher, port, logFile, win)
  if type(launcher) ~= 'string' or launcher == '' then
    return nil, 'no backend launcher is set'
  end
  local absolute = launcher:sub(1, 1) == '/' or launcher:match('^%a:[/\\]') or launcher:sub(1, 2) == '\\\\'
  if not absolute then
    return nil, 'the backend launcher must be an absolute path (Lightroom has no shell PATH): ' .. launcher
  end
  local args = M.args(launcher, port)
  if win then
    local parts = { 'start', '""', '/B', M.winQuote(launcher) }
    for _, x in ipairs(args) do parts[#parts + 1] = x end
    parts[#parts + 1] = '>' .. M.winQuote(logFile)
    parts[#parts + 1] = '2>&1'
    -- cmd.exe /c strips the outermost pair of quotes: wrap the whole line once more.
    return '"' .. table.concat(parts, ' ') .. '"'
  end
  local parts = { 'nohup', M.shQuote(launcher) }
  for _, x in ipairs(args) do parts[#parts + 1] = x end
  parts[#parts + 1] = '>>' .. M.shQuote(logFile)
  parts[#parts + 1] = '2>&1'
  parts[#parts + 1] = '</dev/null'
  parts[#parts + 1] = '&'
  return table.concat(parts, ' ')
end

local function parseVersion(v)
  local a, b, c = tostring(v or ''):match('^(%d+)%.(%d+)%.?(%d*)')
  if not a then return nil end
  return tonumber(a), tonumber(b), tonumber(c) or 0
end
M.parseVersion = parseVersion

-- Checks a /health body. Returns true | nil, message.
function M.checkHealth(h, pluginVersion)
  pluginVersion = pluginVersion or M.PLUGIN_VERSION
  if type(h) ~= 'table' or h.name ~= 'autocull' then
    return nil, 'Something else answers at this address (it is not the AutoCull service).'
  end
  if tonumber(h.schema) ~= M.SCHEMA then
    return nil, string.format('The AutoCull service speaks result schema %s; this plug-in needs schema %d. '
      .. 'Update the plug-in and the backend together.', tostring(h.schema), M.SCHEMA)
  end
  local dMaj, dMin = parseVersion(h.version)
  local pMaj, pMin = parseVersion(pluginVersion)
  if not dMaj then
    return nil, 'The AutoCull service reports no usable version (' .. tostring(h.version) .. ').'
  end
  if dMaj ~= pMaj or (dMaj == 0 and dMin ~= pMin) then
    return nil, string.format('The AutoCull service is version %s but this plug-in is %s. '
      .. 'Install the plug-in that comes with your backend (or update both).', tostring(h.version), pluginVersion)
  end
  return true
end

return M
