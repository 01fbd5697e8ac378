-- LrShutdownPlugin: the plug-in is disabled, removed or reloaded: stop the import watcher.
local ImportWatcher = require 'ImportWatcher'

ImportWatcher.stop()
