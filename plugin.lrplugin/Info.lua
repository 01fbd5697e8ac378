-- AutoCull for Lightroom Classic: first-pass culling by the local AutoCull service.
-- (Info.lua runs with only LOC, MAC_ENV, WIN_ENV, _VERSION and string: no require here.)
return {
  LrSdkVersion = 10.0,
  LrSdkMinimumVersion = 10.0,
  LrToolkitIdentifier = 'org.autocull.lightroom',
  LrPluginName = 'AutoCull',

  LrLibraryMenuItems = {
    { title = 'Auto-Cull Selected', file = 'AutoCullSelected.lua', enabledWhen = 'photosAvailable' },
    { title = 'Apply Auto-Cull Flags', file = 'ApplyFlags.lua', enabledWhen = 'photosAvailable' },
    { title = 'Clear Auto-Cull Marks', file = 'ClearMarks.lua', enabledWhen = 'photosAvailable' },
    { title = 'Create AutoCull Smart Collections', file = 'CreateCollections.lua' },
  },

  LrMetadataProvider = 'MetadataDefinition.lua',
  LrMetadataTagsetFactory = 'Tagset.lua',
  LrPluginInfoProvider = 'PluginInfo.lua',

  LrInitPlugin = 'Init.lua',
  LrForceInitPlugin = true,
  LrShutdownPlugin = 'Shutdown.lua',
  LrShutdownApp = 'ShutdownApp.lua',

  VERSION = { major = 0, minor = 1, revision = 0, display = '0.1.0' },
}
