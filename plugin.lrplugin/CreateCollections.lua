-- Library ▸ Plug-in Extras ▸ Create AutoCull Smart Collections
local LrApplication = import 'LrApplication'
local LrDialogs = import 'LrDialogs'
local LrFunctionContext = import 'LrFunctionContext'
local LrTasks = import 'LrTasks'

local Commands = require 'Commands'

LrTasks.startAsyncTask(function()
  LrFunctionContext.callWithContext('Create AutoCull Smart Collections', function(context)
    LrDialogs.attachErrorDialogToFunctionContext(context)
    Commands.createCollections(LrApplication.activeCatalog())
  end)
end, 'Create AutoCull Smart Collections')
