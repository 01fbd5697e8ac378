--[[ Previews: JPEG previews for photos whose original file is missing or offline.

Lightroom's requestJpegThumbnail calls back later (or at once when cached, possibly more than once);
the request objects are kept referenced until every callback ran or the wait times out.
]]
local LrFileUtils = import 'LrFileUtils'
local LrPathUtils = import 'LrPathUtils'
local LrTasks = import 'LrTasks'

local Log = require 'Log'

local M = {}

M.SIZE = 1600

function M.folder()
  local dir = LrPathUtils.child(LrPathUtils.getStandardFilePath('temp'), 'AutoCull previews')
  LrFileUtils.createAllDirectories(dir)
  return dir
end

-- entries: list of { photo, uuid, name }. Sets entry.previewPath or entry.previewError.
function M.render(entries, timeout, isCanceled)
  if #entries == 0 then return end
  local dir = M.folder()
  local requests, pending = {}, #entries
  for i, e in ipairs(entries) do
    local target = LrPathUtils.child(dir, tostring(e.uuid or i) .. '.jpg')
    requests[i] = e.photo:requestJpegThumbnail(M.SIZE, M.SIZE, function(jpeg, err)
      if e.previewPath or e.previewError then return end -- a later, second call
      if jpeg then
        local f, openErr = io.open(target, 'wb')
        if f then
          f:write(jpeg)
          f:close()
          e.previewPath = target
        else
          e.previewError = 'cannot write ' .. target .. ': ' .. tostring(openErr)
        end
      else
        e.previewError = 'no preview: ' .. tostring(err or 'Lightroom returned none')
      end
      pending = pending - 1
    end)
  end
  local waited = 0
  while pending > 0 and waited < (timeout or 30) do
    if isCanceled and isCanceled() then break end
    LrTasks.sleep(0.1)
    waited = waited + 0.1
  end
  for _, e in ipairs(entries) do
    if not e.previewPath and not e.previewError then e.previewError = 'no preview within the time limit' end
    if e.previewError then Log.warn('%s: %s', tostring(e.name), e.previewError) end
  end
  Log.info('%d preview(s) requested, %d outstanding', #requests, pending)
end

function M.cleanup(entries)
  for _, e in ipairs(entries) do
    if e.previewPath then LrFileUtils.delete(e.previewPath) end
  end
end

return M
