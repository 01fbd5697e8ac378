-- Library ▸ Plug-in Extras ▸ Auto-Cull Selected
local LrApplication = import 'LrApplication'
local LrDialogs = import 'LrDialogs'
local LrFunctionContext = import 'LrFunctionContext'
local LrTasks = import 'LrTasks'

local Commands = require 'Commands'

LrTasks.startAsyncTask(function()
  LrFunctionContext.callWithContext('Auto-Cull Selected', function(context)
    LrDialogs.attachErrorDialogToFunctionContext(context)
    Commands.autoCullSelected(LrApplication.activeCatalog(), context)
  end)
end, 'Auto-Cull Selected')
