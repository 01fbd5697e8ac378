require 'tests.lua.helper'
local Fields = require 'Fields'
local Summary = require 'Summary'

describe('Fields.fromResult', function()
  it('turns a result into searchable strings', function()
    local v = Fields.fromResult({ ok = true, verdict = 'alternate', reasons = { 'alternate in a burst of 4', 'sharp' },
      sharpness = { blurry = false, probability = 0.031, region = 'face' }, eyes = { state = 'open' },
      exposure = { state = 'ok' }, group = { id = 'g3', kind = 'burst', size = 4, best = false } },
      Fields.STATUS.culled, nil, 'original')
    assert.equal('culled', v.cullStatus)
    assert.equal('alternate', v.verdict)
    assert.equal('alternate in a burst of 4; sharp', v.reasons)
    assert.equal('sharp (blur 0.03, face)', v.sharpness)
    assert.equal('open', v.eyes)
    assert.equal('g3', v.groupId)
    assert.equal('burst', v.groupKind)
    assert.equal('no', v.groupBest)
    assert.equal('original', v.judgedFrom)
    assert.is_false(v.cullError) -- cleared
  end)

  it('records a failed photo as an error, clearing stale values', function()
    local v = Fields.fromResult({ ok = false, error = '/x/bad.jpg: not a JPEG' }, Fields.STATUS.error)
    assert.equal('error', v.cullStatus)
    assert.equal('/x/bad.jpg: not a JPEG', v.cullError)
    assert.is_false(v.verdict)
  end)

  it('declares every written field, private ones last', function()
    assert.equal('cullStatus', Fields.ALL[1])
    assert.equal('appliedMarks', Fields.ALL[#Fields.ALL])
  end)
end)

describe('Summary.text', function()
  it('counts keepers, alternates, rejects by reason and lists errors', function()
    local r = Summary.new()
    r.selected, r.submitted = 1870, 1869
    r.verdicts = { keeper = 400, alternate = 1000, reject = 400, unsure = 68 }
    r.rejects = { closed_eyes = 100, blurry = 250, exposure = 50 }
    r.errors = { 'IMG_1.CR3: truncated file' }
    r.previews = { 'IMG_9.NEF' }
    local title, body = Summary.text(r)
    assert.equal('Auto-Cull finished', title)
    assert.matches('1,868 photos analysed of 1,870 selected', body)
    assert.matches('Rejects: 400 %(closed eyes 100, blurry 250, exposure 50%)', body)
    assert.matches('Errors: 1 photo could not be analysed:\nIMG_1.CR3: truncated file', body)
    assert.matches("Judged from Lightroom's preview", body)
    assert.matches('IMG_9.NEF', body)
  end)

  it('says what happened when cancelled', function()
    local r = Summary.new()
    r.selected, r.submitted, r.outcome, r.unfinished = 10, 10, 'cancelled', 6
    r.verdicts.keeper = 4
    local title, body = Summary.text(r)
    assert.equal('Auto-Cull cancelled', title)
    assert.matches('6 photos not analysed: nothing was written to them', body)
    assert.matches('outcome=cancelled', Summary.line(r))
  end)
end)
