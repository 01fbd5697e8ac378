--[[ Daemon: everything that talks to the AutoCull service (the only module using LrHttp).

  Daemon.health(url)                     -> health | nil, err
  Daemon.ensure(settings, opts)          -> client | nil, message   (starts the service if allowed)
  Daemon.submit(client, photos, options) -> job    | nil, err
  Daemon.job(client, id, withResults)    -> job    | nil, err
  Daemon.cancel(client, id)              -> answer | nil, err

err = { kind = 'network'|'http'|'protocol', status = <http status>, code = <error code>, message = <text> }.
Must be called from an async task (LrHttp yields). Never called inside a write block.
]]
local LrFileUtils = import 'LrFileUtils'
local LrHttp = import 'LrHttp'
local LrPathUtils = import 'LrPathUtils'
local LrTasks = import 'LrTasks'

local Json = require 'Json'
local Launch = require 'Launch'
local Log = require 'Log'
local Util = require 'Util'

local M = {}

local function request(method, url, body, token, timeout)
  local headers = { { field = 'Accept', value = 'application/json' } }
  if token then headers[#headers + 1] = { field = 'Authorization', value = 'Bearer ' .. token } end
  headers[#headers + 1] = { field = 'Content-Type', value = 'application/json' }
  local data, resp
  if method == 'GET' then
    data, resp = LrHttp.get(url, headers, timeout)
  else
    data, resp = LrHttp.post(url, body or '', headers, method, timeout)
  end
  local status = type(resp) == 'table' and tonumber(resp.status) or nil
  if data == nil or status == nil then
    local e = type(resp) == 'table' and type(resp.error) == 'table' and resp.error or {}
    return nil, { kind = 'network', code = e.errorCode or 'noResponse',
                  message = tostring(e.name or e.errorCode or 'no response') }
  end
  local decoded = nil
  if data ~= '' then decoded = Json.decode(data) end
  if status >= 400 then
    local e = type(decoded) == 'table' and type(decoded.error) == 'table' and decoded.error or {}
    return nil, { kind = 'http', status = status, code = e.code,
                  message = string.format('HTTP %d%s', status, e.message and (': ' .. tostring(e.message)) or '') }
  end
  if type(decoded) ~= 'table' then
    return nil, { kind = 'protocol', status = status, message = 'the answer is not JSON: ' .. data:sub(1, 120) }
  end
  return decoded
end

function M.health(url, timeout)
  return request('GET', url .. '/health', nil, nil, timeout or 5)
end

local function readToken(path)
  if not path or LrFileUtils.exists(path) ~= 'file' then return nil end
  local text = LrFileUtils.readFile(path)
  local token = text and Util.trim(text)
  if token == nil or token == '' then return nil end
  return token
end

-- Calls with the client's token; after a 401 it reads the token file again once (the service may
-- have been restarted with a new token) and retries.
local function authed(client, method, path, body, timeout)
  local data, err = request(method, client.url .. path, body, client.token, timeout or client.timeout)
  if not data and err.kind == 'http' and err.status == 401 then
    local fresh = readToken(client.tokenFile)
    if fresh and fresh ~= client.token then
      client.token = fresh
      data, err = request(method, client.url .. path, body, client.token, timeout or client.timeout)
    end
    if not data and err.status == 401 then
      err.message = 'the AutoCull service refused the token in ' .. tostring(client.tokenFile)
        .. ' (set "Token file" in File ▸ Plug-in Manager ▸ AutoCull)'
    end
  end
  return data, err
end

function M.daemonLogFile()
  return LrPathUtils.child(LrPathUtils.getStandardFilePath('temp'), 'autocull-daemon.log')
end

-- Starts the service detached. Returns true | nil, message.
function M.start(settings)
  local launcher = settings.launcherPath
  if WIN_ENV and Launch.isPython(launcher) and launcher:lower():match('python%.exe$') then
    -- pythonw.exe runs without a console window
    local w = launcher:sub(1, #launcher - #'python.exe') .. 'pythonw.exe'
    if LrFileUtils.exists(w) == 'file' then launcher = w end
  end
  if launcher ~= '' and LrFileUtils.exists(launcher) ~= 'file' then
    return nil, 'The backend launcher set in Plug-in Manager does not exist: ' .. launcher
  end
  local cmd, err = Launch.command(launcher, settings.port, M.daemonLogFile(), WIN_ENV)
  if not cmd then return nil, err end
  Log.info('starting the AutoCull service: %s', cmd)
  local status = LrTasks.execute(cmd)
  if status ~= 0 then
    return nil, string.format('Starting the AutoCull service failed (exit status %s). Command: %s', tostring(status), cmd)
  end
  return true
end

local NOT_RUNNING = 'The AutoCull service is not running at %s.'
local HOW_TO_START = 'Start it in a terminal with "autocull serve", or turn on "Start the service automatically" '
  .. 'and set the backend path in File ▸ Plug-in Manager ▸ AutoCull.'

-- Makes sure the service is up, right and reachable with the token.
-- opts: { quiet = bool (no waiting messages), isCanceled = fn, onStatus = fn(text) }
-- Returns client | nil, message (for a dialog), detail (for the log).
function M.ensure(settings, opts)
  opts = opts or {}
  local url = settings.daemonUrl
  local h, err = M.health(url, 5)
  if not h and err.kind == 'network' then
    if not settings.autoStart then
      return nil, string.format(NOT_RUNNING, url) .. ' ' .. HOW_TO_START, err.message
    end
    if settings.launcherPath == '' then
      return nil, string.format(NOT_RUNNING, url) .. ' To let the plug-in start it, set the path of the '
        .. "backend's Python (for example …/autocull/.venv/bin/python) in File ▸ Plug-in Manager ▸ AutoCull.", err.message
    end
    local ok, startErr = M.start(settings)
    if not ok then return nil, startErr end
    if opts.onStatus then opts.onStatus('Starting the AutoCull service…') end
    local waited, step = 0, 0.5
    while waited < settings.startTimeout do
      LrTasks.sleep(step)
      waited = waited + step
      if opts.isCanceled and opts.isCanceled() then return nil, 'Cancelled.' end
      h, err = M.health(url, 5)
      if h or err.kind ~= 'network' then break end
    end
    if not h then
      return nil, string.format('The AutoCull service was started but did not answer at %s within %d seconds. '
        .. 'Its output is in %s.', url, settings.startTimeout, M.daemonLogFile()), err and err.message
    end
    Log.info('the AutoCull service is up after %.1f s', waited)
  elseif not h then
    return nil, string.format('Something at %s answers, but not like the AutoCull service (%s).', url, err.message)
  end
  local ok, why = Launch.checkHealth(h)
  if not ok then return nil, why end
  local token = readToken(settings.tokenFile)
  if not token then
    return nil, 'Could not read the AutoCull token file ' .. settings.tokenFile .. '. The service writes it when '
      .. 'it first starts; if yours keeps it elsewhere, set "Token file" in File ▸ Plug-in Manager ▸ AutoCull.'
  end
  return { url = url, token = token, tokenFile = settings.tokenFile, timeout = settings.requestTimeout, health = h }
end

function M.submit(client, photos, options)
  local body, err = Json.encode { photos = Json.array(photos), options = options }
  if not body then return nil, { kind = 'protocol', message = err } end
  return authed(client, 'POST', '/v1/jobs', body)
end

function M.job(client, id, withResults)
  return authed(client, 'GET', '/v1/jobs/' .. tostring(id) .. (withResults and '' or '?results=0'))
end

function M.cancel(client, id)
  return authed(client, 'DELETE', '/v1/jobs/' .. tostring(id), '')
end

return M
