-- The "AutoCull" tagset for the Metadata panel (LrMetadataTagsetFactory): the file name, then
-- every visible AutoCull field. (Item ids beyond 'com.adobe.filename', 'com.adobe.separator' and
-- the 'com.adobe.label' section header are kept out on purpose: unverified ids break the tagset.)
return {
  id = 'autocullTagset',
  title = 'AutoCull',
  items = {
    'com.adobe.filename',
    'com.adobe.separator',
    { 'com.adobe.label', label = 'AutoCull' },
    'org.autocull.lightroom.*',
  },
}
