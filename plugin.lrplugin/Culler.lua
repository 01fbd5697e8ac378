--[[ Culler: one cull from selection to catalog, shared by the menu command and the import watcher.

  Culler.settings()                        -> settings, problems
  Culler.run(catalog, photos, opts)        -> report | nil, message
    opts: { context = LrFunctionContext (progress scope attached to it), settings = settings,
            title = progress title }
  Shows no dialogs: the caller decides (the menu command shows the summary, the import watcher logs it).

Steps: one batched read of the photos; the service up (Daemon.ensure); previews for missing
originals; one job of paths; polling with a cancelable progress scope; results mapped to marks
(Marks.plan keeps the photographer's marks); chunked writes (CatalogWriter).
]]
local LrFileUtils = import 'LrFileUtils'
local LrPathUtils = import 'LrPathUtils'
local LrPrefs = import 'LrPrefs'
local LrProgressScope = import 'LrProgressScope'
local LrTasks = import 'LrTasks'

local CatalogWriter = require 'CatalogWriter'
local Daemon = require 'Daemon'
local Fields = require 'Fields'
local JobState = require 'JobState'
local Json = require 'Json'
local Log = require 'Log'
local Mapping = require 'Mapping'
local Marks = require 'Marks'
local PhotoInfo = require 'PhotoInfo'
local Previews = require 'Previews'
local Settings = require 'Settings'
local Summary = require 'Summary'
local Util = require 'Util'

local M = {}

function M.settings()
  local prefs = LrPrefs.prefsForPlugin()
  local s, problems = Settings.read(prefs, { win = WIN_ENV, home = LrPathUtils.getStandardFilePath('home') })
  for _, p in ipairs(problems) do Log.warn('setting: %s', p) end
  return s, problems
end

-- Polls the job until it ends; returns the JobState. offset/grandTotal: photos of earlier jobs.
local function follow(client, job, total, progress, offset, grandTotal, s)
  local js = JobState.new { total = total, offset = offset, grandTotal = grandTotal, snapshotEvery = s.snapshotSeconds }
  js:submitted(job)
  progress:setPortionComplete(offset, grandTotal)
  progress:setCaption(js:caption(Util.thousands))
  while true do
    if progress:isCanceled() then js:cancelRequested() end
    local a = js:step()
    if a.kind == 'finish' then break end
    if a.kind == 'sleep' then
      LrTasks.sleep(a.seconds)
    elseif a.kind == 'poll' then
      local st, err = Daemon.job(client, js.id, a.withResults)
      js:polled(st, err, os.time())
      progress:setPortionComplete(offset + js.done, math.max(grandTotal, 1))
      progress:setCaption(js:caption(Util.thousands))
    elseif a.kind == 'cancel' then
      Log.info('cancelling job %s', tostring(js.id))
      js:cancelled(Daemon.cancel(client, js.id))
    elseif a.kind == 'fetch' then
      local st, err = Daemon.job(client, js.id, true)
      js:fetched(st, err, os.time())
    end
  end
  Log.info('job %s ended: %s (%d of %d done) %s', tostring(js.id), tostring(js.outcome), js.done, js.total,
    tostring(js.message or ''))
  return js
end

-- Turns results into write items and fills the report.
local function plan(results, byId, s, report)
  local items, seen, count = {}, {}, 0
  for _, r in ipairs(results or {}) do
    local e = type(r) == 'table' and byId[r.id]
    if e and not seen[e] then
      seen[e], count = true, count + 1
      if r.ok == false then
        report.errors[#report.errors + 1] = type(r.error) == 'string' and r.error or (e.name .. ': could not be read')
        items[#items + 1] = { entry = e, values = Fields.fromResult(r, Fields.STATUS.error, nil, e.judgedFrom) }
      else
        local verdict = report.verdicts[r.verdict] and r.verdict or 'unsure'
        report.verdicts[verdict] = report.verdicts[verdict] + 1
        local reason = Mapping.rejectCategory(r, s.mapping)
        if reason then report.rejects[reason] = report.rejects[reason] + 1 end
        local p = Marks.plan(e.marks, Mapping.marksFromResult(r), e.state, s.overwrite)
        if p.status == 'culled' then report.culled = report.culled + 1 else report.keptMarks = report.keptMarks + 1 end
        local status = p.status == 'culled' and Fields.STATUS.culled or Fields.STATUS.keptMarks
        items[#items + 1] = { entry = e, plan = p, values = Fields.fromResult(r, status, reason, e.judgedFrom) }
      end
    end
  end
  return items, count
end

function M.run(catalog, photos, opts)
  opts = opts or {}
  local s = opts.settings or M.settings()
  local report = Summary.new()
  report.selected = #photos
  local progress = LrProgressScope { title = opts.title or 'Auto-Cull', functionContext = opts.context }
  local function canceled() return progress:isCanceled() end
  local missing = {}
  local ok, result, message = LrTasks.pcall(function()
    progress:setCaption('Reading ' .. Util.plural(#photos, 'photo') .. '…')
    local entries = PhotoInfo.read(catalog, photos)
    local toSend = {}
    for _, e in ipairs(entries) do
      if e.fileFormat == 'VIDEO' then
        report.skippedVideos = report.skippedVideos + 1
      elseif e.isVirtualCopy then
        -- same file as its master: sending it again would make the two a "duplicate group"
        report.skippedCopies = report.skippedCopies + 1
      else
        toSend[#toSend + 1] = e
        if e.path and LrFileUtils.exists(e.path) == 'file' then
          e.sendPath, e.judgedFrom = e.path, 'original'
        else
          missing[#missing + 1] = e
        end
      end
    end

    local client, why, detail = Daemon.ensure(s, { isCanceled = canceled, onStatus = function(t) progress:setCaption(t) end })
    if not client then
      Log.warn('service unavailable: %s (%s)', tostring(why), tostring(detail))
      return nil, why
    end

    if #missing > 0 then
      progress:setCaption(string.format('Getting Lightroom previews for %s whose original is missing…',
        Util.plural(#missing, 'photo')))
      Previews.render(missing, 30, canceled)
      for _, e in ipairs(missing) do
        if e.previewPath then
          e.sendPath, e.judgedFrom = e.previewPath, 'preview'
          report.previews[#report.previews + 1] = e.name
        else
          report.previewFailures[#report.previewFailures + 1] = string.format('%s: original missing (%s) and %s',
            e.name, tostring(e.path), tostring(e.previewError))
        end
      end
    end

    local byId, list = {}, {}
    for _, e in ipairs(toSend) do
      if e.sendPath and e.uuid then
        byId[e.uuid] = e
        list[#list + 1] = { id = e.uuid, path = e.sendPath }
      end
    end
    report.submitted = #list
    if #list == 0 then return report end
    if canceled() then
      report.outcome, report.unfinished = 'cancelled', #list
      return report
    end

    -- The service refuses jobs over 10,000 photos: bigger selections go in several jobs of
    -- s.jobSize photos (groups are then found within each job only).
    local options = Settings.jobOptions(s, Json.null)
    local finishedTotal, offset = 0, 0
    for k, part in ipairs(Util.chunks(list, s.jobSize)) do
      progress:setCaption('Sending ' .. Util.plural(#part, 'photo') .. ' to AutoCull…')
      local job, err = Daemon.submit(client, part, options)
      if not job then
        Log.error('job refused: %s', tostring(err.message))
        if k == 1 then return nil, 'The AutoCull service did not accept the job: ' .. tostring(err.message) end
        report.outcome, report.message = 'lost', 'The AutoCull service did not accept the next job: ' .. tostring(err.message)
        break
      end
      Log.info('job %s: %d photo(s)', tostring(job.id), #part)

      local js = follow(client, job, #part, progress, offset, #list, s)
      report.outcome = js.outcome or 'done'
      report.message = js.outcome ~= 'done' and js.message or nil
      if js.cancelWanted and js.outcome ~= 'lost' then
        -- the user cancelled: say so even when the service ended the job as failed
        report.outcome = 'cancelled'
        if js.outcome == 'failed' then report.message = 'The AutoCull service reported: ' .. tostring(js.message) end
      end

      local items, finished = plan(js.results, byId, s, report)
      finishedTotal = finishedTotal + finished
      if #items > 0 then
        progress:setCaption('Writing stars, labels and flags to ' .. Util.plural(#items, 'photo') .. '…')
        local failed, werr = CatalogWriter.writeResults(catalog, items, s.writeChunk, CatalogWriter.ACTION_CULL)
        report.writeError = werr or report.writeError
        for _, item in ipairs(failed) do
          report.writeFailures[#report.writeFailures + 1] = item.entry.name
          -- nothing was written to that photo: it does not count as culled
          if item.plan and item.plan.status == 'culled' then report.culled = report.culled - 1 end
        end
      end
      offset = offset + #part
      if report.outcome ~= 'done' then break end
    end
    report.unfinished = #list - finishedTotal
    return report
  end)
  Previews.cleanup(missing)
  progress:done()
  if not ok then
    Log.error('Auto-Cull failed: %s', tostring(result))
    return nil, 'Auto-Cull failed: ' .. tostring(result)
  end
  if result then Log.info('Auto-Cull: %s', Summary.line(result)) end
  return result, message
end

return M
