-- Library ▸ Plug-in Extras ▸ Clear Auto-Cull Marks
local LrApplication = import 'LrApplication'
local LrDialogs = import 'LrDialogs'
local LrFunctionContext = import 'LrFunctionContext'
local LrTasks = import 'LrTasks'

local Commands = require 'Commands'

LrTasks.startAsyncTask(function()
  LrFunctionContext.callWithContext('Clear Auto-Cull Marks', function(context)
    LrDialogs.attachErrorDialogToFunctionContext(context)
    Commands.clearMarks(LrApplication.activeCatalog(), context)
  end)
end, 'Clear Auto-Cull Marks')
