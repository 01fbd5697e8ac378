--[[ Log: the plug-in's log file (LrLogger 'AutoCull' written to Lightroom's log folder).
macOS: ~/Library/Logs/Adobe/Lightroom/LrClassicLogs/AutoCull.log
Windows: %LOCALAPPDATA%\Adobe\Lightroom\Logs\LrClassicLogs\AutoCull.log
]]
local LrLogger = import 'LrLogger'
local LrPathUtils = import 'LrPathUtils'

local M = {}

local logger = LrLogger('AutoCull')
logger:enable('logfile')

function M.info(fmt, ...) logger:infof(fmt, ...) end
function M.warn(fmt, ...) logger:warnf(fmt, ...) end
function M.error(fmt, ...) logger:errorf(fmt, ...) end
function M.debug(fmt, ...) logger:debugf(fmt, ...) end

-- Where Lightroom writes the log (for the "Show log" button).
function M.path()
  local home = LrPathUtils.getStandardFilePath('home')
  if WIN_ENV then
    return LrPathUtils.child(home, 'AppData\\Local\\Adobe\\Lightroom\\Logs\\LrClassicLogs\\AutoCull.log')
  end
  return LrPathUtils.child(home, 'Library/Logs/Adobe/Lightroom/LrClassicLogs/AutoCull.log')
end

return M
