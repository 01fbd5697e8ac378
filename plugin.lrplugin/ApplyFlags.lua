-- Library ▸ Plug-in Extras ▸ Apply Auto-Cull Flags
local LrApplication = import 'LrApplication'
local LrDialogs = import 'LrDialogs'
local LrFunctionContext = import 'LrFunctionContext'
local LrTasks = import 'LrTasks'

local Commands = require 'Commands'

LrTasks.startAsyncTask(function()
  LrFunctionContext.callWithContext('Apply Auto-Cull Flags', function(context)
    LrDialogs.attachErrorDialogToFunctionContext(context)
    Commands.applyFlags(LrApplication.activeCatalog(), context)
  end)
end, 'Apply Auto-Cull Flags')
