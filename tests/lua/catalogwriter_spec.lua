require 'tests.lua.helper'
local SdkStub = require 'tests.lua.sdkstub'
local Marks = require 'Marks'

-- A fake catalog: records write blocks; `fail` = { [n] = 'aborted' | 'error' } for the n-th block.
local function fakeCatalog(fail)
  local c = { blocks = {}, inBlock = false }
  function c.withWriteAccessDo(_, name, fn, timeoutParams)
    local n = #c.blocks + 1
    c.blocks[n] = { name = name, timeout = timeoutParams and timeoutParams.timeout, writes = 0 }
    if fail and fail[n] == 'aborted' then return 'aborted' end
    assert(not c.inBlock, 'nested write block')
    c.inBlock = true
    local ok, err = pcall(fn)
    c.inBlock = false
    if fail and fail[n] == 'error' then error('boom in block ' .. n) end
    if not ok then error(err) end
    return 'executed'
  end
  c.current = function() return c.blocks[#c.blocks] end
  return c
end

local function fakePhoto(catalog, name)
  local p = { name = name, raw = {}, props = {} }
  function p.setRawMetadata(_, k, v)
    assert(catalog.inBlock, 'write outside a write block')
    p.raw[k] = v == nil and 'NIL' or v
    catalog.current().writes = catalog.current().writes + 1
  end
  function p.setPropertyForPlugin(_, plugin, k, v)
    assert(catalog.inBlock, 'write outside a write block')
    assert.equal('org.autocull.lightroom', plugin.id)
    p.props[k] = v == nil and 'NIL' or v
    catalog.current().writes = catalog.current().writes + 1
  end
  return p
end

local function item(catalog, i, fields)
  local photo = fakePhoto(catalog, 'IMG_' .. i)
  local plan = Marks.plan({ rating = nil, color = 'none', flag = 0 }, { rating = 3, color = 'green', flag = 1 }, {}, false)
  return { entry = { photo = photo, name = photo.name, fields = fields or {} }, plan = plan,
           values = { cullStatus = 'culled', verdict = 'keeper', reasons = false } }
end

describe('CatalogWriter', function()
  local sdk = SdkStub.new()
  local CatalogWriter = sdk.require 'CatalogWriter'

  it('writes in chunks, each a timed write block with the same action name', function()
    local catalog = fakeCatalog()
    local items = {}
    for i = 1, 7 do items[i] = item(catalog, i) end
    local progress = {}
    local failed = CatalogWriter.writeResults(catalog, items, 3, nil, function(done, total) progress[#progress + 1] = done .. '/' .. total end)
    assert.same({}, failed)
    assert.equal(3, #catalog.blocks)
    for _, b in ipairs(catalog.blocks) do
      assert.equal('Auto-Cull', b.name)
      assert.equal(30, b.timeout)
    end
    assert.same({ '3/7', '6/7', '7/7' }, progress)
    local p = items[1].entry.photo
    assert.equal(3, p.raw.rating)
    assert.equal('green', p.raw.colorNameForLabel)
    assert.equal(1, p.raw.pickStatus)
    assert.equal('keeper', p.props.verdict)
    assert.is_string(p.props.prevMarks)
    assert.is_string(p.props.appliedMarks)
    assert.is_nil(p.props.reasons) -- was already empty: not written again
  end)

  it('a block that times out or fails is reported, the others are written', function()
    local catalog = fakeCatalog { [2] = 'aborted', [3] = 'error' }
    local items = {}
    for i = 1, 8 do items[i] = item(catalog, i) end
    local failed, err = CatalogWriter.writeResults(catalog, items, 2)
    assert.equal(4, #failed)
    assert.equal('IMG_3', failed[1].entry.name)
    assert.equal('IMG_6', failed[4].entry.name)
    assert.matches('boom in block 3', err)
    assert.equal(3, items[1].entry.photo.raw.rating)
    assert.equal(3, items[8].entry.photo.raw.rating)
  end)

  it('clears only the fields that hold a value and restores the marks', function()
    local catalog = fakeCatalog()
    local it1 = item(catalog, 1, { verdict = 'keeper', prevMarks = '{}', appliedMarks = '{}' })
    it1.restore = { set = { color = 'none', flag = 0 }, unset = { 'rating' } }
    CatalogWriter.clear(catalog, { it1 }, 100)
    local p = it1.entry.photo
    assert.equal('NIL', p.raw.rating)
    assert.equal('none', p.raw.colorNameForLabel)
    assert.equal(0, p.raw.pickStatus)
    assert.equal('NIL', p.props.verdict)
    assert.equal('NIL', p.props.prevMarks)
    assert.is_nil(p.props.cullStatus)
    assert.equal('Clear Auto-Cull Marks', catalog.blocks[1].name)
  end)

  it('smart collections search the plug-in\'s searchable fields', function()
    local list = CatalogWriter.smartCollections('org.autocull.lightroom')
    assert.equal('Rejects', list[1].name)
    assert.equal('sdktext:org.autocull.lightroom.verdict', list[1].search.criteria)
    assert.equal('reject', list[1].search.value)
  end)
end)
