require 'tests.lua.helper'
local Fields = require 'Fields'
local Launch = require 'Launch'

local here = debug.getinfo(1, 'S').source:match('^@(.*)/[^/]*$') or '.'
local DIR = here .. '/../../plugin.lrplugin'

-- Info.lua as Lightroom runs it: only LOC, MAC_ENV, WIN_ENV, _VERSION and string.
local function loadInfo()
  local chunk = assert(loadfile(DIR .. '/Info.lua'))
  setfenv(chunk, { LOC = function(s) return s end, MAC_ENV = true, WIN_ENV = false, _VERSION = _VERSION, string = string })
  return chunk()
end

local function exists(name)
  local f = io.open(DIR .. '/' .. name, 'rb')
  if f then f:close() end
  return f ~= nil
end

describe('Info.lua', function()
  local info = loadInfo()
  it('declares the menu items once, each with an existing file', function()
    local titles = {}
    for _, item in ipairs(info.LrLibraryMenuItems) do
      titles[#titles + 1] = item.title
      assert.is_true(exists(item.file), item.file)
    end
    assert.same({ 'Auto-Cull Selected', 'Apply Auto-Cull Flags', 'Clear Auto-Cull Marks',
                  'Create AutoCull Smart Collections' }, titles)
    -- enabled with photos in view, so "nothing selected" gets an explanation instead of a grey item
    assert.equal('photosAvailable', info.LrLibraryMenuItems[1].enabledWhen)
  end)

  it('names existing files for every hook, and forces init for rating on import', function()
    for _, key in ipairs { 'LrMetadataProvider', 'LrMetadataTagsetFactory', 'LrPluginInfoProvider', 'LrInitPlugin',
                           'LrShutdownPlugin', 'LrShutdownApp' } do
      assert.is_true(exists(info[key]), key)
    end
    assert.is_true(info.LrForceInitPlugin)
    assert.is_string(info.LrToolkitIdentifier)
  end)

  it('carries the version the service is checked against', function()
    local v = info.VERSION
    assert.equal(Launch.PLUGIN_VERSION, string.format('%d.%d.%d', v.major, v.minor, v.revision))
    assert.equal(Launch.PLUGIN_VERSION, v.display)
  end)
end)

describe('MetadataDefinition.lua', function()
  local def = dofile(DIR .. '/MetadataDefinition.lua')
  local byId = {}
  for _, f in ipairs(def.metadataFieldsForPhotos) do byId[f.id] = f end

  it('declares every field the plug-in writes', function()
    for _, id in ipairs(Fields.ALL) do assert.is_table(byId[id], id) end
    assert.equal(#Fields.ALL, #def.metadataFieldsForPhotos)
    assert.is_number(def.schemaVersion)
  end)

  it('visible fields are searchable strings (smart collections); private ones have no title', function()
    for _, f in ipairs(Fields.VISIBLE) do
      assert.equal('string', byId[f.id].dataType)
      assert.is_true(byId[f.id].searchable)
      assert.is_string(byId[f.id].title)
    end
    for _, id in ipairs(Fields.PRIVATE) do assert.is_nil(byId[id].title) end
  end)

  it('the tagset lists the plug-in\'s fields', function()
    local tagset = dofile(DIR .. '/Tagset.lua')
    local info = loadInfo()
    local found = false
    for _, item in ipairs(tagset.items) do
      if item == info.LrToolkitIdentifier .. '.*' then found = true end
    end
    assert.is_true(found)
  end)
end)
