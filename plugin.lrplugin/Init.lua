-- LrInitPlugin (run at Lightroom start because of LrForceInitPlugin): starts the import watcher
-- when "Cull new imports automatically" is on. Nothing else happens at load time.
local ImportWatcher = require 'ImportWatcher'

ImportWatcher.start()
