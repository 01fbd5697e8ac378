-- Loads plug-in files that import Lightroom modules, with small recording stubs in their place,
-- for checks the simulator cannot make (lrsim never calls the Plug-in Manager's info provider).
local here = debug.getinfo(1, 'S').source:match('^@(.*)/[^/]*$') or '.'
local PLUGIN_DIR = here .. '/../../plugin.lrplugin'

local M = {}

function M.new(opts)
  opts = opts or {}
  local rec = { tasks = {}, dialogs = {}, shell = {}, prefs = opts.prefs or {} }
  local env
  local function factory()
    return setmetatable({}, { __index = function(_, kind)
      return function(_, args) return { _view = kind, args = args } end
    end })
  end
  local stubs = {
    LrView = { osFactory = factory, bind = function(b) return { _bind = b } end,
               share = function(n) return { _share = n } end },
    LrPrefs = { prefsForPlugin = function() return rec.prefs end },
    LrTasks = { startAsyncTask = function(fn, name) rec.tasks[#rec.tasks + 1] = { fn = fn, name = name } end,
                pcall = pcall, sleep = function() end, yield = function() end, execute = function() return 0 end },
    LrDialogs = { message = function(m, i, s) rec.dialogs[#rec.dialogs + 1] = { message = m, info = i, style = s } end },
    LrShell = { revealInShell = function(p) rec.shell[#rec.shell + 1] = p end },
    LrFileUtils = { exists = function() return false end, readFile = function() return nil end },
    LrPathUtils = { getStandardFilePath = function() return '/Users/ann' end,
                    child = function(a, b) return a .. '/' .. b end },
    LrLogger = function() return setmetatable({}, { __index = function() return function() end end }) end,
    LrHttp = {}, LrApplication = {}, LrProgressScope = function() end, LrFunctionContext = {},
  }
  local loaded = {}
  env = setmetatable({
    import = function(name)
      assert(stubs[name], 'no stub for ' .. name)
      return stubs[name]
    end,
    require = function(name)
      if loaded[name] == nil then
        local chunk = assert(loadfile(PLUGIN_DIR .. '/' .. name .. '.lua'))
        setfenv(chunk, env)
        loaded[name] = chunk() or true
      end
      return loaded[name]
    end,
    _PLUGIN = { id = 'org.autocull.lightroom', path = PLUGIN_DIR },
    WIN_ENV = false, MAC_ENV = true, LOC = function(s) return s end,
  }, {
    __index = _G,
    __newindex = function(_, k) error('plug-in code assigned the global ' .. tostring(k), 2) end,
  })
  rec.require = env.require
  return rec
end

return M
