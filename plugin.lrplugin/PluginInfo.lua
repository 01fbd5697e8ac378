--[[ PluginInfo: the AutoCull section of File ▸ Plug-in Manager (LrPluginInfoProvider).

Controls are bound straight to LrPrefs.prefsForPlugin() (bind_to_object = prefs). The
propertyTable Lightroom passes in is already observable: it is used as is (wrapping it in
LrBinding.makePropertyTable throws, and then no menu item registers).
]]
local LrDialogs = import 'LrDialogs'
local LrFileUtils = import 'LrFileUtils'
local LrPrefs = import 'LrPrefs'
local LrShell = import 'LrShell'
local LrTasks = import 'LrTasks'
local LrView = import 'LrView'

local Culler = require 'Culler'
local Daemon = require 'Daemon'
local ImportWatcher = require 'ImportWatcher'
local Launch = require 'Launch'
local Log = require 'Log'
local Mapping = require 'Mapping'
local Settings = require 'Settings'

local M = {}

-- Fills unset preferences with their defaults so the controls show them.
local function fillDefaults(prefs)
  for _, k in ipairs { 'daemonUrl', 'autoStart', 'launcherPath', 'tokenFile', 'overwrite', 'watchImports',
                       'blurSensitivity', 'eyesSensitivity', 'strictness' } do
    if prefs[k] == nil then prefs[k] = Settings.DEFAULTS[k] end
  end
  for _, cat in ipairs(Mapping.CATEGORIES) do
    local d = Mapping.DEFAULT[cat]
    local rk, ck, fk = Mapping.prefKey(cat, 'rating'), Mapping.prefKey(cat, 'color'), Mapping.prefKey(cat, 'flag')
    if prefs[rk] == nil and prefs[ck] == nil and prefs[fk] == nil then
      prefs[rk] = d.rating or -1
      prefs[ck] = d.color or 'leave'
      prefs[fk] = d.flag or 'leave'
    end
  end
end

local function checkService(propertyTable)
  LrTasks.startAsyncTask(function()
    local s = Culler.settings()
    propertyTable.daemonStatus = 'Checking ' .. s.daemonUrl .. '…'
    local h, err = Daemon.health(s.daemonUrl, 5)
    if not h then
      propertyTable.daemonStatus = 'Not running at ' .. s.daemonUrl .. ' (' .. tostring(err.message) .. ')'
      return
    end
    local models = {}
    if type(h.models) == 'table' then
      for k, v in pairs(h.models) do
        models[#models + 1] = tostring(k) .. (type(v) == 'string' and (' ' .. v) or '')
      end
      table.sort(models)
    end
    local ok, why = Launch.checkHealth(h)
    local token = LrFileUtils.exists(s.tokenFile) == 'file' and 'token found' or ('no token at ' .. s.tokenFile)
    propertyTable.daemonStatus = string.format('%s %s, schema %s%s; %s%s', tostring(h.name), tostring(h.version),
      tostring(h.schema), #models > 0 and (', models: ' .. table.concat(models, ', ')) or '', token,
      ok and '' or ('. ' .. why))
  end, 'AutoCull: check service')
end

local function mappingRows(f, prefs)
  local bind = LrView.bind
  local ratingItems = { { title = 'Leave', value = -1 }, { title = '1 star', value = 1 },
    { title = '2 stars', value = 2 }, { title = '3 stars', value = 3 } }
  local colorItems = { { title = 'Leave', value = 'leave' } }
  for _, c in ipairs(Mapping.COLORS) do
    if c ~= 'none' then colorItems[#colorItems + 1] = { title = c:sub(1, 1):upper() .. c:sub(2), value = c } end
  end
  local flagItems = { { title = 'Leave', value = 'leave' }, { title = 'Pick', value = 'pick' },
    { title = 'Reject', value = 'reject' } }
  local rows = {}
  for _, cat in ipairs(Mapping.CATEGORIES) do
    rows[#rows + 1] = f:row {
      f:static_text { title = Mapping.TITLES[cat], width = LrView.share 'mapLabel' },
      f:popup_menu { items = ratingItems, value = bind { key = Mapping.prefKey(cat, 'rating'), bind_to_object = prefs } },
      f:popup_menu { items = colorItems, value = bind { key = Mapping.prefKey(cat, 'color'), bind_to_object = prefs } },
      f:popup_menu { items = flagItems, value = bind { key = Mapping.prefKey(cat, 'flag'), bind_to_object = prefs } },
    }
  end
  rows[#rows + 1] = f:static_text {
    title = 'Unsure photos are never marked. 4 and 5 stars stay yours. "Apply Auto-Cull Flags" re-applies this '
      .. 'mapping to photos already culled, without analysing them again.',
    fill_horizontal = 1, height_in_lines = 2,
  }
  return rows
end

function M.sectionsForTopOfDialog(f, propertyTable)
  local prefs = LrPrefs.prefsForPlugin()
  fillDefaults(prefs)
  local bind = LrView.bind
  local share = LrView.share
  local defaultToken = Culler.settings().tokenFile

  local service = {
    title = 'AutoCull service',
    synopsis = bind { key = 'daemonStatus', object = propertyTable },
    f:row {
      f:static_text { title = 'Address:', width = share 'label', alignment = 'right' },
      f:edit_field { value = bind { key = 'daemonUrl', bind_to_object = prefs }, width_in_chars = 32 },
    },
    f:row {
      f:static_text { title = '', width = share 'label' },
      f:checkbox { title = 'Start the service automatically when it is not running',
        value = bind { key = 'autoStart', bind_to_object = prefs } },
    },
    f:row {
      f:static_text { title = 'Backend:', width = share 'label', alignment = 'right' },
      f:edit_field { value = bind { key = 'launcherPath', bind_to_object = prefs }, width_in_chars = 40,
        tooltip = 'Absolute path of the AutoCull backend\'s Python (…/.venv/bin/python or …\\.venv\\Scripts\\python.exe) '
          .. 'or of the autocull launcher. Lightroom has no shell PATH.' },
    },
    f:row {
      f:static_text { title = 'Token file:', width = share 'label', alignment = 'right' },
      f:edit_field { value = bind { key = 'tokenFile', bind_to_object = prefs }, width_in_chars = 40,
        placeholder_string = defaultToken, tooltip = 'Empty: ' .. defaultToken },
    },
    f:row {
      f:static_text { title = '', width = share 'label' },
      f:push_button { title = 'Check service', action = function() checkService(propertyTable) end },
      f:push_button { title = 'Show log', action = function()
        local path = Log.path()
        if LrFileUtils.exists(path) then
          LrShell.revealInShell(path)
        else
          LrDialogs.message('AutoCull log', 'No log yet. It will be written to ' .. path, 'info')
        end
      end },
    },
    f:row {
      f:static_text { title = 'Status:', width = share 'label', alignment = 'right' },
      f:static_text { title = bind { key = 'daemonStatus', object = propertyTable }, fill_horizontal = 1,
        height_in_lines = 2 },
    },
  }

  local culling = {
    title = 'Culling',
    f:checkbox { title = 'Overwrite stars, labels and flags I set (off: photos I marked keep my marks)',
      value = bind { key = 'overwrite', bind_to_object = prefs } },
    f:checkbox { title = 'Cull new imports automatically (rating on import)',
      value = bind { key = 'watchImports', bind_to_object = prefs } },
    f:row {
      f:static_text { title = 'Blur sensitivity:', width = share 'clabel' },
      f:slider { value = bind { key = 'blurSensitivity', bind_to_object = prefs }, min = 0.05, max = 0.95, width = 200 },
      f:edit_field { value = bind { key = 'blurSensitivity', bind_to_object = prefs }, min = 0.05, max = 0.95,
        precision = 2, width_in_digits = 4 },
    },
    f:row {
      f:static_text { title = 'Closed-eye sensitivity:', width = share 'clabel' },
      f:slider { value = bind { key = 'eyesSensitivity', bind_to_object = prefs }, min = 0.05, max = 0.95, width = 200 },
      f:edit_field { value = bind { key = 'eyesSensitivity', bind_to_object = prefs }, min = 0.05, max = 0.95,
        precision = 2, width_in_digits = 4 },
    },
    f:row {
      f:static_text { title = 'Strictness:', width = share 'clabel' },
      f:popup_menu { value = bind { key = 'strictness', bind_to_object = prefs }, items = {
        { title = 'Loose', value = 'loose' }, { title = 'Normal', value = 'normal' },
        { title = 'Strict', value = 'strict' } } },
    },
  }

  local mapping = { title = 'Verdicts to stars, labels and flags' }
  for _, row in ipairs(mappingRows(f, prefs)) do mapping[#mapping + 1] = row end

  return { service, culling, mapping }
end

function M.startDialog(propertyTable)
  local prefs = LrPrefs.prefsForPlugin()
  propertyTable.watchAtStart = prefs.watchImports == true
  propertyTable.daemonStatus = ''
  checkService(propertyTable)
end

function M.endDialog(propertyTable)
  local prefs = LrPrefs.prefsForPlugin()
  local on = prefs.watchImports == true
  if on ~= propertyTable.watchAtStart then
    if on then ImportWatcher.start() else ImportWatcher.stop() end
  end
  local _, problems = Culler.settings()
  if #problems > 0 then
    LrDialogs.message('AutoCull settings', table.concat(problems, '\n'), 'warning')
  end
end

return M
