-- LrShutdownApp: Lightroom quits: stop the import watcher. (The AutoCull service keeps running;
-- it is a separate process and costs nothing while idle.)
local ImportWatcher = require 'ImportWatcher'

return {
  LrShutdownFunction = function(doneFunc)
    ImportWatcher.stop()
    doneFunc()
  end,
}
