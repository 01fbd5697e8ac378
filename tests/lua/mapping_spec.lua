require 'tests.lua.helper'
local Json = require 'Json'
local Mapping = require 'Mapping'

describe('Mapping.fromPrefs', function()
  it('defaults to keeper 3 green pick, alternate 2 blue, rejects 1 star yellow/red/purple', function()
    local m, problems = Mapping.fromPrefs {}
    assert.same({}, problems)
    assert.same({ rating = 3, color = 'green', flag = 'pick' }, m.keeper)
    assert.same({ rating = 2, color = 'blue' }, m.alternate)
    assert.same({ rating = 1, color = 'yellow', flag = 'reject' }, m.closed_eyes)
    assert.same({ rating = 1, color = 'red', flag = 'reject' }, m.blurry)
    assert.same({ rating = 1, color = 'purple', flag = 'reject' }, m.exposure)
  end)

  it('reads the flat preference keys, with "leave" values', function()
    local m = Mapping.fromPrefs { map_keeper_rating = 2, map_keeper_color = 'leave', map_keeper_flag = 'leave',
                                  map_blurry_rating = -1, map_blurry_color = 'Purple', map_blurry_flag = 'reject' }
    assert.same({ rating = 2 }, m.keeper)
    assert.same({ color = 'purple', flag = 'reject' }, m.blurry)
    assert.same({ rating = 3, color = 'green', flag = 'pick' }, Mapping.fromPrefs({}).keeper)
  end)

  it('keeps 4 and 5 stars for the photographer and reports bad values', function()
    local m, problems = Mapping.fromPrefs { map_keeper_rating = 5, map_keeper_color = 'pink', map_keeper_flag = 'maybe' }
    assert.same({ rating = 3 }, m.keeper)
    assert.equal(3, #problems)
  end)
end)

describe('Mapping.toRequest', function()
  it('sends every key, null for "leave", so the service does not fill in its defaults', function()
    local m = Mapping.fromPrefs { map_keeper_rating = 2, map_keeper_color = 'leave', map_keeper_flag = 'leave' }
    local req = Mapping.toRequest(m, Json.null)
    assert.equal(2, req.keeper.rating)
    assert.equal(Json.null, req.keeper.label)
    assert.equal(Json.null, req.keeper.flag)
    assert.equal('blue', req.alternate.label)
    assert.equal(Json.null, req.alternate.flag)
    assert.matches('"alternate":{"flag":null,"label":"blue","rating":2}', Json.encode(req), 1, true)
  end)
end)

describe('Mapping.rejectCategory', function()
  local m = Mapping.fromPrefs {}
  it('identifies the reject row from the marks the service wrote', function()
    assert.equal('closed_eyes', Mapping.rejectCategory({ verdict = 'reject', rating = 1, label = 'yellow', flag = 'reject' }, m))
    assert.equal('exposure', Mapping.rejectCategory({ verdict = 'reject', rating = 1, label = 'purple', flag = 'reject' }, m))
  end)
  it('falls back to the analysis, then the reasons', function()
    assert.equal('blurry', Mapping.rejectCategory({ verdict = 'reject', sharpness = { blurry = true } }, m))
    assert.equal('exposure', Mapping.rejectCategory({ verdict = 'reject', exposure = { state = 'misfire' } }, m))
    assert.equal('closed_eyes', Mapping.rejectCategory({ verdict = 'reject', eyes = { state = 'closed' } }, m))
    assert.equal('closed_eyes', Mapping.rejectCategory({ verdict = 'reject', reasons = { 'eyes closed' } }, m))
  end)
  it('is nil for anything but a reject', function()
    assert.is_nil(Mapping.rejectCategory({ verdict = 'keeper' }, m))
    assert.is_nil(Mapping.rejectCategory(nil, m))
  end)
end)

describe('Mapping.marksFor / marksFromResult', function()
  local m = Mapping.fromPrefs {}
  it('maps categories to raw Lightroom values', function()
    assert.same({ rating = 3, color = 'green', flag = 1 }, Mapping.marksFor(m, 'keeper'))
    assert.same({ rating = 1, color = 'red', flag = -1 }, Mapping.marksFor(m, Mapping.category('reject', 'blurry')))
    assert.same({}, Mapping.marksFor(m, Mapping.category('unsure')))
    assert.same({ rating = 2, color = 'blue' }, Mapping.marksFor(m, 'alternate'))
  end)
  it('takes the service\'s rating/label/flag, ignoring what Lightroom cannot take', function()
    assert.same({ rating = 3, color = 'green', flag = 1 },
      Mapping.marksFromResult { ok = true, rating = 3, label = 'Green', flag = 'pick' })
    assert.same({}, Mapping.marksFromResult { ok = true, verdict = 'unsure' })
    assert.same({ color = nil }, Mapping.marksFromResult { ok = true, rating = 5, label = 'pink' })
    assert.same({}, Mapping.marksFromResult { ok = false, rating = 3 })
  end)
end)
