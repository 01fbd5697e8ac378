--[[ Settings: defaults and validation of the plug-in's preferences (pure, no imports).

  Settings.read(prefs, env) -> settings, problems
    prefs: LrPrefs.prefsForPlugin() (or any table)
    env:   { win = WIN_ENV, home = '<home folder>' }
]]
local Mapping = require 'Mapping'
local Util = require 'Util'

local M = {}

M.DEFAULT_PORT = 47474
M.DEFAULT_URL = 'http://127.0.0.1:47474'

M.DEFAULTS = {
  daemonUrl = M.DEFAULT_URL,
  autoStart = true,
  launcherPath = '',        -- absolute path of the backend's python (or the `autocull` launcher)
  tokenFile = '',           -- empty: the daemon's default location for this OS
  overwrite = false,        -- overwrite marks the photographer set
  watchImports = false,     -- rating on import
  blurSensitivity = 0.5,
  eyesSensitivity = 0.5,
  strictness = 'normal',
  writeChunk = 100,         -- photos per write block
  watchStartDelay = 20,     -- seconds after Lightroom starts before the first poll
  watchPollSeconds = 20,    -- seconds between polls (at least 15)
  watchChunk = 1000,        -- photos per background job (bursts are found within a job)
  jobSize = 5000,           -- photos per job (the service takes at most 10,000)
  snapshotSeconds = 10,     -- how often a running job's results so far are fetched (kept if it dies)
  startTimeout = 40,        -- seconds to wait for a daemon we started
  jobTimeoutRequest = 30,   -- LrHttp per-phase timeout for job requests
}

M.STRICTNESS = { 'loose', 'normal', 'strict' }

-- The token file the service writes by default: platformdirs user_config_dir("autocull",
-- appauthor=False) + "/token" (macOS ~/Library/Application Support/autocull/token,
-- Windows %LOCALAPPDATA%\\autocull\\token).
function M.defaultTokenFile(env)
  env = env or {}
  local home = env.home or ''
  if env.win then
    local sep = home:sub(-1) == '\\' and '' or '\\'
    return home .. sep .. 'AppData\\Local\\autocull\\token'
  end
  local sep = home:sub(-1) == '/' and '' or '/'
  return home .. sep .. 'Library/Application Support/autocull/token'
end

local function bool(v, default)
  if v == nil then return default end
  return v == true or v == 'true' or v == 1
end

local function number(v, default, lo, hi)
  local n = tonumber(v)
  if not n then return default end
  if lo and n < lo then n = lo end
  if hi and n > hi then n = hi end
  return n
end

local LOOPBACK = { ['127.0.0.1'] = true, localhost = true }

function M.read(prefs, env)
  prefs = prefs or {}
  local s, problems = {}, {}
  local url = Util.trim(prefs.daemonUrl ~= nil and prefs.daemonUrl or M.DEFAULTS.daemonUrl)
  url = url:gsub('/+$', '')
  local host, port = Util.parseUrl(url)
  if not host then
    problems[#problems + 1] = 'Daemon address "' .. url .. '": ' .. tostring(port) .. '; using ' .. M.DEFAULT_URL
    url, host, port = M.DEFAULT_URL, '127.0.0.1', M.DEFAULT_PORT
  elseif not LOOPBACK[host] then
    problems[#problems + 1] = 'Daemon address "' .. url .. '": AutoCull only talks to this computer '
      .. '(127.0.0.1 or localhost); using ' .. M.DEFAULT_URL
    url, host, port = M.DEFAULT_URL, '127.0.0.1', M.DEFAULT_PORT
  end
  s.daemonUrl, s.host, s.port = url, host, port
  s.autoStart = bool(prefs.autoStart, M.DEFAULTS.autoStart)
  s.launcherPath = Util.trim(prefs.launcherPath or '')
  local tf = Util.trim(prefs.tokenFile or '')
  s.tokenFile = tf ~= '' and tf or M.defaultTokenFile(env)
  s.overwrite = bool(prefs.overwrite, M.DEFAULTS.overwrite)
  s.watchImports = bool(prefs.watchImports, M.DEFAULTS.watchImports)
  -- the service wants 0 < sensitivity < 1
  s.blurSensitivity = number(prefs.blurSensitivity, M.DEFAULTS.blurSensitivity, 0.05, 0.95)
  s.eyesSensitivity = number(prefs.eyesSensitivity, M.DEFAULTS.eyesSensitivity, 0.05, 0.95)
  s.strictness = M.DEFAULTS.strictness
  for _, v in ipairs(M.STRICTNESS) do if prefs.strictness == v then s.strictness = v end end
  s.writeChunk = math.floor(number(prefs.writeChunk, M.DEFAULTS.writeChunk, 1, 1000))
  s.watchStartDelay = number(prefs.watchStartDelay, M.DEFAULTS.watchStartDelay, 0)
  s.watchPollSeconds = number(prefs.watchPollSeconds, M.DEFAULTS.watchPollSeconds, 15)
  s.watchChunk = math.floor(number(prefs.watchChunk, M.DEFAULTS.watchChunk, 1, 5000))
  s.snapshotSeconds = number(prefs.snapshotSeconds, M.DEFAULTS.snapshotSeconds, 0.5, 600)
  s.jobSize = math.floor(number(prefs.jobSize, M.DEFAULTS.jobSize, 1, 10000))
  s.startTimeout = number(prefs.startTimeout, M.DEFAULTS.startTimeout, 1, 600)
  s.requestTimeout = number(prefs.jobTimeoutRequest, M.DEFAULTS.jobTimeoutRequest, 1, 600)
  local mapping, mproblems = Mapping.fromPrefs(prefs)
  s.mapping = mapping
  for _, p in ipairs(mproblems) do problems[#problems + 1] = 'Mapping ' .. p end
  return s, problems
end

-- The options object of POST /v1/jobs (`null`: the JSON null sentinel).
function M.jobOptions(s, null)
  return {
    mapping = Mapping.toRequest(s.mapping, null),
    sensitivity = { blur = s.blurSensitivity, eyes = s.eyesSensitivity },
    strictness = s.strictness,
  }
end

return M
