require 'tests.lua.helper'
local Marks = require 'Marks'

local function cur(rating, color, flag, text)
  return { rating = rating, color = color or 'none', flag = flag or 0, text = text or '' }
end

-- Applies a plan's changes to a marks table, as CatalogWriter does to a photo.
local function apply(m, plan)
  local out = { rating = m.rating, color = m.color, flag = m.flag, text = m.text }
  for _, k in ipairs(plan.unset or {}) do if k == 'rating' then out.rating = nil end end
  if plan.set.rating ~= nil then out.rating = plan.set.rating end
  if plan.set.color ~= nil then out.color = plan.set.color; out.text = plan.set.color == 'none' and '' or plan.set.color end
  if plan.set.text ~= nil then out.color = 'none'; out.text = plan.set.text end
  if plan.set.flag ~= nil then out.flag = plan.set.flag end
  return out
end

local KEEPER = { rating = 3, color = 'green', flag = 1 }
local REJECT = { rating = 1, color = 'red', flag = -1 }

describe('Marks.hasUserMarks', function()
  it('sees any rating, label, custom label text or flag', function()
    assert.is_false(Marks.hasUserMarks(cur(nil)))
    assert.is_false(Marks.hasUserMarks(cur(0)))
    assert.is_true(Marks.hasUserMarks(cur(1)))
    assert.is_true(Marks.hasUserMarks(cur(nil, 'red')))
    assert.is_true(Marks.hasUserMarks(cur(nil, 'none', 0, 'To print')))
    assert.is_true(Marks.hasUserMarks(cur(nil, 'none', -1)))
  end)
end)

describe('Marks.plan', function()
  it('writes the desired marks on an unmarked photo and remembers what was there', function()
    local p = Marks.plan(cur(nil), KEEPER, {}, false)
    assert.equal('culled', p.status)
    assert.same({ rating = 3, color = 'green', flag = 1 }, p.set)
    assert.is_nil(p.prev.rating)
    assert.equal('none', p.prev.color)
    assert.same({ rating = 3, color = 'green', flag = 1 }, p.applied)
  end)

  it('never touches a photo the user marked, by default', function()
    for _, m in ipairs { cur(2), cur(nil, 'purple'), cur(nil, 'none', 1), cur(nil, 'none', 0, 'Client') } do
      local p = Marks.plan(m, REJECT, {}, false)
      assert.equal('kept-marks', p.status)
      assert.same({}, p.set)
      assert.same({}, p.unset)
    end
  end)

  it('overwrites user marks when allowed, but never lowers 4 or 5 stars', function()
    local p = Marks.plan(cur(2, 'purple'), REJECT, {}, true)
    assert.equal('culled', p.status)
    assert.same({ rating = 1, color = 'red', flag = -1 }, p.set)
    assert.equal(2, p.prev.rating)
    local five = Marks.plan(cur(5), REJECT, {}, true)
    assert.is_nil(five.set.rating)
    assert.equal(5, five.applied.rating)
    assert.equal('red', five.set.color)
  end)

  it('leaves marks the mapping does not set (alternate: no flag; unsure: nothing)', function()
    local p = Marks.plan(cur(nil), { rating = 2, color = 'blue' }, {}, false)
    assert.same({ rating = 2, color = 'blue' }, p.set)
    local u = Marks.plan(cur(nil), {}, {}, false)
    assert.same({}, u.set)
    assert.same({}, u.unset)
  end)

  it('re-culling its own marks keeps the original previous marks', function()
    local first = Marks.plan(cur(nil), KEEPER, {}, false)
    local now = apply(cur(nil), first)
    local second = Marks.plan(now, REJECT, { prev = first.prev, applied = first.applied }, false)
    assert.equal('culled', second.status)
    assert.is_nil(second.prev.rating)
    assert.equal('none', second.prev.color)
    assert.same({ rating = 1, color = 'red', flag = -1 }, second.set)
  end)

  it('re-culling to unsure puts back what the user had', function()
    local first = Marks.plan(cur(nil), KEEPER, {}, false)
    local now = apply(cur(nil), first)
    local second = Marks.plan(now, {}, { prev = first.prev, applied = first.applied }, false)
    assert.same({ 'rating' }, second.unset)
    assert.equal('none', second.set.color)
    assert.equal(0, second.set.flag)
  end)

  it('treats marks the user changed after a cull as hers', function()
    local first = Marks.plan(cur(nil), KEEPER, {}, false)
    local now = apply(cur(nil), first)
    now.rating = 4 -- she promoted it
    local second = Marks.plan(now, REJECT, { prev = first.prev, applied = first.applied }, false)
    assert.equal('kept-marks', second.status)
    assert.same({}, second.set)
    assert.is_true(second.clearState)
  end)

  it('treats nil and 0 stars alike when comparing', function()
    assert.is_true(Marks.same(cur(nil), cur(0)))
    local first = Marks.plan(cur(0), { color = 'blue' }, {}, false)
    assert.is_nil(first.set.rating)
    assert.same({}, first.unset)
  end)
end)

describe('Marks.restore', function()
  it('restores exactly what was there before, nil rating included', function()
    for _, before in ipairs { cur(nil), cur(0), cur(nil, 'none', 0) } do
      local p = Marks.plan(before, KEEPER, {}, false)
      local now = apply(before, p)
      local r = Marks.restore(now, p.prev, p.applied)
      local back = apply(now, r)
      assert.equal(before.rating, back.rating)
      assert.equal(before.color, back.color)
      assert.equal(before.flag, back.flag)
      assert.same({}, r.conflicts)
    end
  end)

  it('restores overwritten user marks, custom label text included', function()
    local before = cur(2, 'none', 1, 'Client pick')
    local p = Marks.plan(before, REJECT, {}, true)
    local now = apply(before, p)
    assert.equal('red', now.color)
    local back = apply(now, Marks.restore(now, p.prev, p.applied))
    assert.equal(2, back.rating)
    assert.equal('Client pick', back.text)
    assert.equal('none', back.color)
    assert.equal(1, back.flag)
  end)

  it('keeps a mark the user changed after the cull', function()
    local p = Marks.plan(cur(nil), KEEPER, {}, false)
    local now = apply(cur(nil), p)
    now.flag = -1
    local r = Marks.restore(now, p.prev, p.applied)
    assert.same({ 'flag' }, r.conflicts)
    assert.is_nil(r.set.flag)
    assert.same({ 'rating' }, r.unset)
    assert.equal('none', r.set.color)
  end)

  it('does nothing without saved marks', function()
    local r = Marks.restore(cur(3, 'green', 1), nil, nil)
    assert.same({}, r.set)
    assert.same({}, r.unset)
  end)
end)

describe('Marks.encode/decode', function()
  it('round-trips through the private plugin field', function()
    local m = { rating = nil, color = 'none', text = 'Zoë "x"', flag = -1 }
    local back = Marks.decode(Marks.encode(m))
    assert.is_nil(back.rating)
    assert.equal('Zoë "x"', back.text)
    assert.equal(-1, back.flag)
    assert.equal(0, Marks.decode(Marks.encode { rating = 0 }).rating)
    assert.is_nil(Marks.decode(nil))
    assert.is_nil(Marks.decode('not json'))
  end)
end)
