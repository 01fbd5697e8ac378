-- Makes the plug-in's pure modules loadable with require (they use no Lightroom import).
local here = debug.getinfo(1, 'S').source:match('^@(.*)/[^/]*$') or '.'
package.path = here .. '/../../plugin.lrplugin/?.lua;' .. package.path
