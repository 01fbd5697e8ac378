require 'tests.lua.helper'
local SdkStub = require 'tests.lua.sdkstub'
local Mapping = require 'Mapping'
local Settings = require 'Settings'

-- Every bound key in a view tree, with the object it binds to.
local function bindings(view, out)
  out = out or {}
  if type(view) ~= 'table' then return out end
  if view._bind then out[#out + 1] = view._bind end
  for k, v in pairs(view) do
    if k ~= '_bind' and type(v) == 'table' then bindings(v, out) end
  end
  return out
end

describe('PluginInfo (Plug-in Manager section)', function()
  it('shows every setting of the issue, bound to the plug-in preferences, with defaults filled in', function()
    local sdk = SdkStub.new()
    local info = sdk.require 'PluginInfo'
    local f = setmetatable({}, { __index = function(_, kind) return function(_, args) return { _view = kind, args = args } end end })
    local props = {}
    local sections = info.sectionsForTopOfDialog(f, props)
    assert.equal(3, #sections)
    local keys = {}
    for _, b in ipairs(bindings(sections)) do
      if b.bind_to_object == sdk.prefs then keys[b.key] = true end
    end
    for _, k in ipairs { 'daemonUrl', 'autoStart', 'launcherPath', 'tokenFile', 'overwrite', 'watchImports',
                         'blurSensitivity', 'eyesSensitivity', 'strictness' } do
      assert.is_true(keys[k], k)
    end
    for _, cat in ipairs(Mapping.CATEGORIES) do
      for _, what in ipairs { 'rating', 'color', 'flag' } do assert.is_true(keys[Mapping.prefKey(cat, what)]) end
    end
    -- the defaults the dialog fills in mean the same as no preferences at all
    assert.is_false(sdk.prefs.overwrite)
    assert.is_false(sdk.prefs.watchImports)
    local fromDialog = Settings.read(sdk.prefs, { home = '/Users/ann' })
    local fromNothing = Settings.read({}, { home = '/Users/ann' })
    assert.same(fromNothing.mapping, fromDialog.mapping)
    assert.equal(fromNothing.tokenFile, fromDialog.tokenFile)
  end)

  it('turning rating on import on in the dialog starts the watcher; off stops it', function()
    local sdk = SdkStub.new()
    local info = sdk.require 'PluginInfo'
    local props = {}
    info.startDialog(props)                  -- starts a service check task
    local before = #sdk.tasks
    sdk.prefs.watchImports = true
    info.endDialog(props)
    assert.equal(before + 1, #sdk.tasks)
    assert.equal('AutoCull import watcher', sdk.tasks[#sdk.tasks].name)
    local token = sdk.prefs.watcherToken
    assert.is_string(token)
    props.watchAtStart = true
    sdk.prefs.watchImports = false
    info.endDialog(props)
    assert.is_nil(sdk.prefs.watcherToken)
    assert.is_true(sdk.prefs.watcherStop)
  end)

  it('a second start (plug-in reload) replaces the token, so the older loop exits', function()
    local sdk = SdkStub.new { prefs = { watchImports = true } }
    local watcher = sdk.require 'ImportWatcher'
    local Watcher = require 'Watcher'
    watcher.start()
    local first = sdk.prefs.watcherToken
    watcher.start()
    assert.is_false(Watcher.shouldRun(first, sdk.prefs))
    assert.is_true(Watcher.shouldRun(sdk.prefs.watcherToken, sdk.prefs))
    local shutdown = sdk.require 'ShutdownApp'
    local done = false
    shutdown.LrShutdownFunction(function() done = true end)
    assert.is_true(done)
    assert.is_false(Watcher.shouldRun(sdk.prefs.watcherToken, sdk.prefs))
  end)
end)
