--[[ Commands: what the menu items do (the menu files only start a task and call these). ]]
local LrApplication = import 'LrApplication'
local LrDialogs = import 'LrDialogs'
local LrFunctionContext = import 'LrFunctionContext'
local LrProgressScope = import 'LrProgressScope'
local LrTasks = import 'LrTasks'

local CatalogWriter = require 'CatalogWriter'
local Culler = require 'Culler'
local Log = require 'Log'
local Mapping = require 'Mapping'
local Marks = require 'Marks'
local PhotoInfo = require 'PhotoInfo'
local Summary = require 'Summary'
local Util = require 'Util'

local M = {}

-- The selected photos, or nil after telling the user that nothing is selected.
-- catalog:getTargetPhotos() returns the whole filmstrip when nothing is selected; getTargetPhoto()
-- (the active photo) is nil then, which is how "nothing selected" is told apart.
local function selection(catalog, what)
  if catalog:getTargetPhoto() == nil then
    LrDialogs.message(what .. ': no photos selected',
      'Select the photos in the Library grid or the filmstrip first. AutoCull does not work on the whole '
      .. 'filmstrip when nothing is selected.', 'info')
    return nil
  end
  return catalog:getTargetPhotos()
end

function M.autoCullSelected(catalog, context)
  local photos = selection(catalog, 'Auto-Cull')
  if not photos then return end
  local report, err = Culler.run(catalog, photos, { context = context, title = 'Auto-Cull' })
  if not report then
    LrDialogs.message('Auto-Cull could not run', tostring(err) .. '\n\nDetails are in the AutoCull log (File ▸ '
      .. 'Plug-in Manager ▸ AutoCull ▸ Show log).', 'critical')
    return
  end
  local title, body = Summary.text(report)
  LrDialogs.message(title, body, (#report.errors > 0 or report.outcome ~= 'done') and 'warning' or 'info')
end

function M.applyFlags(catalog, context)
  local photos = selection(catalog, 'Apply Auto-Cull Flags')
  if not photos then return end
  local s = Culler.settings()
  local progress = LrProgressScope { title = 'Apply Auto-Cull Flags', functionContext = context }
  progress:setCaption('Reading ' .. Util.plural(#photos, 'photo') .. '…')
  local items, never, kept = {}, 0, 0
  for _, e in ipairs(PhotoInfo.read(catalog, photos)) do
    local verdict = e.fields.verdict
    if verdict == nil or verdict == '' then
      never = never + 1
    else
      local category = Mapping.category(verdict, e.fields.rejectReason)
      local plan = Marks.plan(e.marks, Mapping.marksFor(s.mapping, category), e.state, s.overwrite)
      if plan.status ~= 'culled' then kept = kept + 1 end
      items[#items + 1] = { entry = e, plan = plan }
    end
  end
  local failed, werr = CatalogWriter.writeMarks(catalog, items, s.writeChunk, function(done, total)
    progress:setPortionComplete(done, total)
  end)
  progress:done()
  local lines = {
    string.format('Stored verdicts re-applied with the current mapping to %s.', Util.plural(#items - kept - #failed, 'photo')),
  }
  if kept > 0 then
    lines[#lines + 1] = string.format('%s kept your own stars, labels or flags (turn on "Overwrite marks I set" to change them).',
      Util.plural(kept, 'photo'))
  end
  if never > 0 then
    lines[#lines + 1] = string.format('%s have no AutoCull verdict yet (use Auto-Cull Selected first).',
      Util.plural(never, 'photo'))
  end
  if #failed > 0 then
    lines[#lines + 1] = string.format('Could not write to %s: %s', Util.plural(#failed, 'photo'), tostring(werr))
  end
  Log.info('Apply Auto-Cull Flags: %d applied, %d kept, %d without verdict, %d failed', #items - kept, kept, never, #failed)
  LrDialogs.message('Apply Auto-Cull Flags', table.concat(lines, '\n'), #failed > 0 and 'warning' or 'info')
end

function M.clearMarks(catalog, context)
  local photos = selection(catalog, 'Clear Auto-Cull Marks')
  if not photos then return end
  local s = Culler.settings()
  local progress = LrProgressScope { title = 'Clear Auto-Cull Marks', functionContext = context }
  local items, conflicts = {}, 0
  for _, e in ipairs(PhotoInfo.read(catalog, photos)) do
    local any = false
    for _, v in pairs(e.fields) do if v ~= nil then any = true end end
    if any then
      local restore = Marks.restore(e.marks, e.state.prev, e.state.applied)
      if #restore.conflicts > 0 then
        conflicts = conflicts + 1
        Log.info('%s: kept %s changed since Auto-Cull', tostring(e.name), table.concat(restore.conflicts, ', '))
      end
      items[#items + 1] = { entry = e, restore = restore }
    end
  end
  local failed, werr = CatalogWriter.clear(catalog, items, s.writeChunk, function(done, total)
    progress:setPortionComplete(done, total)
  end)
  progress:done()
  local lines = {}
  if #items == 0 then
    lines[1] = 'None of the selected photos has AutoCull marks.'
  else
    lines[1] = string.format('Restored the stars, labels and flags of %s to what they were before Auto-Cull, '
      .. 'and removed the AutoCull fields.', Util.plural(#items - #failed, 'photo'))
  end
  if conflicts > 0 then
    lines[#lines + 1] = string.format('On %s you changed a mark after Auto-Cull: your change was kept.',
      Util.plural(conflicts, 'photo'))
  end
  if #failed > 0 then
    lines[#lines + 1] = string.format('Could not write to %s: %s', Util.plural(#failed, 'photo'), tostring(werr))
  end
  LrDialogs.message('Clear Auto-Cull Marks', table.concat(lines, '\n'), #failed > 0 and 'warning' or 'info')
end

function M.createCollections(catalog)
  local names, err = CatalogWriter.createCollections(catalog, _PLUGIN.id)
  if not names then
    LrDialogs.message('Could not create the AutoCull collections', tostring(err), 'critical')
    return
  end
  LrDialogs.message('AutoCull collections',
    'The "AutoCull" collection set has these smart collections: ' .. table.concat(names, ', ') .. '.', 'info')
end

-- What a menu file does: start a task, give it a context with an error dialog, and run the
-- command `name` of this module on the active catalog.
function M.runMenu(title, name)
  LrTasks.startAsyncTask(function()
    LrFunctionContext.callWithContext(title, function(context)
      LrDialogs.attachErrorDialogToFunctionContext(context)
      M[name](LrApplication.activeCatalog(), context)
    end)
  end, title)
end

return M
