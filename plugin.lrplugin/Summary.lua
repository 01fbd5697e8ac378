--[[ Summary: the closing message of a cull (pure, no imports).

report = {
  selected, submitted, skippedVideos, skippedCopies,
  verdicts = { keeper =, alternate =, reject =, unsure = },
  rejects = { closed_eyes =, blurry =, exposure = },
  culled, keptMarks,                     -- photos whose marks were written / kept as the user set them
  errors = { '<file>: <cause>', ... },   -- photos the service could not read
  previews = { names },                  -- judged from Lightroom's preview (original missing)
  previewFailures = { '<file>: <why>' }, -- original missing and no preview either
  writeFailures = { names }, writeError,
  outcome = 'done'|'cancelled'|'lost'|'failed'|'stalled', message,
  unfinished,                            -- submitted but not analysed (cancelled / lost)
}
]]
local Util = require 'Util'

local M = {}

local n = Util.thousands
local plural = Util.plural

function M.new()
  return {
    selected = 0, submitted = 0, skippedVideos = 0, skippedCopies = 0,
    verdicts = { keeper = 0, alternate = 0, reject = 0, unsure = 0 },
    rejects = { closed_eyes = 0, blurry = 0, exposure = 0 },
    culled = 0, keptMarks = 0, errors = {}, previews = {}, previewFailures = {},
    writeFailures = {}, outcome = 'done', unfinished = 0,
  }
end

-- Returns title, body.
function M.text(r)
  local title
  if r.outcome == 'cancelled' then
    title = 'Auto-Cull cancelled'
  elseif r.outcome == 'lost' or r.outcome == 'failed' or r.outcome == 'stalled' then
    title = 'Auto-Cull stopped early'
  else
    title = 'Auto-Cull finished'
  end
  local lines = {}
  local analysed = r.verdicts.keeper + r.verdicts.alternate + r.verdicts.reject + r.verdicts.unsure
  lines[#lines + 1] = string.format('%s analysed of %s selected.', plural(analysed, 'photo'), n(r.selected))
  if r.outcome ~= 'done' then
    if r.message then lines[#lines + 1] = r.message end
    if r.unfinished > 0 then
      lines[#lines + 1] = string.format('%s not analysed: nothing was written to them.', plural(r.unfinished, 'photo'))
    end
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = string.format('Keepers: %s', n(r.verdicts.keeper))
  lines[#lines + 1] = string.format('Alternates: %s', n(r.verdicts.alternate))
  lines[#lines + 1] = string.format('Rejects: %s (closed eyes %s, blurry %s, exposure %s)', n(r.verdicts.reject),
    n(r.rejects.closed_eyes), n(r.rejects.blurry), n(r.rejects.exposure))
  lines[#lines + 1] = string.format('Unsure (left alone): %s', n(r.verdicts.unsure))
  if r.keptMarks > 0 then
    lines[#lines + 1] = string.format('Your own stars, labels or flags kept on %s (their AutoCull verdict is in the '
      .. 'Metadata panel).', plural(r.keptMarks, 'photo'))
  end
  if r.skippedVideos > 0 then
    lines[#lines + 1] = string.format('Videos skipped: %s', n(r.skippedVideos))
  end
  if r.skippedCopies > 0 then
    lines[#lines + 1] = string.format('Virtual copies skipped (their master photo is culled): %s', n(r.skippedCopies))
  end
  if #r.previews > 0 then
    lines[#lines + 1] = ''
    lines[#lines + 1] = string.format('Judged from Lightroom\'s preview (original missing or offline): %s',
      n(#r.previews))
    lines[#lines + 1] = Util.listSome(r.previews, 10, ', ')
  end
  local problems = {}
  for _, e in ipairs(r.errors) do problems[#problems + 1] = e end
  for _, e in ipairs(r.previewFailures) do problems[#problems + 1] = e end
  if #problems > 0 then
    lines[#lines + 1] = ''
    lines[#lines + 1] = string.format('Errors: %s could not be analysed:', plural(#problems, 'photo'))
    lines[#lines + 1] = Util.listSome(problems, 10)
  end
  if #r.writeFailures > 0 then
    lines[#lines + 1] = ''
    lines[#lines + 1] = string.format('Could not write to %s: %s', plural(#r.writeFailures, 'photo'),
      tostring(r.writeError))
    lines[#lines + 1] = Util.listSome(r.writeFailures, 10, ', ')
  end
  return title, table.concat(lines, '\n')
end

-- One line for the log / a quiet background run.
function M.line(r)
  return string.format('outcome=%s selected=%d submitted=%d keepers=%d alternates=%d rejects=%d unsure=%d '
    .. 'culled=%d keptMarks=%d errors=%d previews=%d unfinished=%d', tostring(r.outcome), r.selected, r.submitted,
    r.verdicts.keeper, r.verdicts.alternate, r.verdicts.reject, r.verdicts.unsure, r.culled, r.keptMarks,
    #r.errors + #r.previewFailures, #r.previews, r.unfinished)
end

return M
