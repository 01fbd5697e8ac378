require 'tests.lua.helper'
local Json = require 'Json'

describe('Json.encode', function()
  it('encodes scalars', function()
    assert.equal('null', Json.encode(nil))
    assert.equal('null', Json.encode(Json.null))
    assert.equal('true', Json.encode(true))
    assert.equal('false', Json.encode(false))
    assert.equal('42', Json.encode(42))
    assert.equal('-7', Json.encode(-7))
    assert.equal('0.5', Json.encode(0.5))
    assert.equal('"x"', Json.encode('x'))
  end)

  it('escapes quotes, backslashes and control characters, keeps UTF-8', function()
    assert.equal([["a\"b\\c\n\t\r\b\f"]], Json.encode('a"b\\c\n\t\r\b\f'))
    assert.equal([["\u0001\u001f"]], Json.encode('\1\31'))
    assert.equal('"Zoë 📷"', Json.encode('Zoë 📷'))
  end)

  it('encodes arrays, objects (sorted keys) and nesting', function()
    assert.equal('[1,2,3]', Json.encode { 1, 2, 3 })
    assert.equal('{"a":1,"b":[true,{"c":"d"}]}', Json.encode { b = { true, { c = 'd' } }, a = 1 })
    assert.equal('[]', Json.encode(Json.array {}))
    assert.equal('{}', Json.encode {})
    assert.equal('[1,null,3]', Json.encode(Json.array { 1, Json.null, 3 }))
    assert.equal('{"rating":null}', Json.encode { rating = Json.null })
  end)

  it('encodes large integers without exponent and keeps float precision', function()
    assert.equal('1700000000', Json.encode(1700000000))
    assert.equal(0.1, Json.decode(Json.encode(0.1)))
    assert.equal(1 / 3, Json.decode(Json.encode(1 / 3)))
  end)

  it('refuses what JSON cannot hold', function()
    local s, err = Json.encode(0 / 0)
    assert.is_nil(s)
    assert.matches('NaN', err)
    assert.is_nil((Json.encode(math.huge)))
    assert.is_nil((Json.encode { f = function() end }))
    local t = {}
    t.self = t
    assert.is_nil((Json.encode(t)))
  end)
end)

describe('Json.decode', function()
  it('decodes scalars and whitespace', function()
    assert.equal(true, Json.decode(' true '))
    assert.equal(false, Json.decode('false'))
    assert.equal(Json.null, Json.decode('null'))
    assert.equal(12, Json.decode('12'))
    assert.equal(-0.25, Json.decode('-0.25'))
    assert.equal(1.5e3, Json.decode('1.5e3'))
    assert.equal(2E-2, Json.decode('2E-2'))
    assert.equal('', Json.decode('""'))
  end)

  it('decodes escapes and unicode, including surrogate pairs', function()
    assert.equal('a"b\\c/\n\t', Json.decode([["a\"b\\c\/\n\t"]]))
    assert.equal('é', Json.decode([["\u00e9"]]))
    assert.equal('€', Json.decode([["\u20AC"]]))
    assert.equal('📷', Json.decode([["\ud83d\udcf7"]]))
    assert.equal('Zoë', Json.decode('"Zoë"')) -- raw UTF-8 passes through
    assert.equal('\239\191\189', Json.decode([["\ud83d"]])) -- lone surrogate -> U+FFFD
  end)

  it('decodes nested objects and arrays; null leaves object keys absent, keeps array positions', function()
    local v = Json.decode('{"a": [1, null, {"b": null, "c": [true]}], "d": {"e": "f"}, "g": null}')
    assert.equal(1, v.a[1])
    assert.equal(Json.null, v.a[2])
    assert.is_nil(v.a[3].b)
    assert.is_true(v.a[3].c[1])
    assert.equal('f', v.d.e)
    assert.is_nil(v.g)
    assert.equal(3, #v.a)
  end)

  it('decodes a daemon result', function()
    local r = Json.decode([[{"schema":1,"path":"/x/IMG_1.jpg","id":"U1","ok":true,"error":null,
      "sharpness":{"blurry":false,"probability":0.03,"region":"face"},"group":null,
      "verdict":"keeper","rating":3,"label":"green","flag":"pick","reasons":["best of a burst of 4"]}]])
    assert.equal('keeper', r.verdict)
    assert.equal(0.03, r.sharpness.probability)
    assert.is_false(r.sharpness.blurry)
    assert.is_nil(r.group)
    assert.is_nil(r.error)
    assert.same({ 'best of a burst of 4' }, r.reasons)
  end)

  it('accepts the NaN and Infinity that Python writes', function()
    local v = Json.decode('{"p": NaN, "a": [Infinity, -Infinity, 1]}')
    assert.is_true(v.p ~= v.p)
    assert.equal(math.huge, v.a[1])
    assert.equal(-math.huge, v.a[2])
    assert.equal(1, v.a[3])
  end)

  it('round-trips', function()
    local v = { photos = { { id = 'U1', path = '/a b/"q".jpg' }, { id = 'U2', path = 'C:\\x\\y.NEF' } },
                options = { sensitivity = { blur = 0.5 } } }
    assert.same(v, Json.decode(Json.encode(v)))
  end)

  it('reports malformed input with a position', function()
    for _, bad in ipairs { '', '{', '[1,]', '{"a" 1}', '{"a":1,}', 'tru', '"abc', '01', '1.', '"\\x"', '[1] 2',
                           '"a\nb"', "{'a':1}" } do
      local v, err = Json.decode(bad)
      assert.is_nil(v, bad)
      assert.matches('Json.decode', err, 1, true)
    end
    local _, err = Json.decode('{\n  "a": x}')
    assert.matches('line 2', err)
    assert.is_nil((Json.decode(nil)))
  end)
end)
