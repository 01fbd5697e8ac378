-- luacheck configuration for the Lightroom plug-in (Lua 5.1) and its busted specs.
std = 'lua51'
max_line_length = 130
codes = true

-- Globals Lightroom gives plug-in code (read-only: assigning any global is an error).
read_globals = { 'import', 'LOC', '_PLUGIN', 'WIN_ENV', 'MAC_ENV' }

-- Info.lua runs with only LOC, MAC_ENV, WIN_ENV, _VERSION and string.
files['plugin.lrplugin/Info.lua'] = { std = 'min', read_globals = { 'LOC', 'MAC_ENV', 'WIN_ENV', '_VERSION', 'string' } }

-- Modules Lightroom does not provide to plug-ins (no package, setfenv, os.execute, ...).
files['plugin.lrplugin'] = {
  not_globals = { 'package', 'module', 'setfenv', 'getfenv', 'collectgarbage', 'newproxy', 'print' },
}

files['tests/lua'] = { std = '+busted', globals = { 'package' }, max_line_length = false }
