-- Plug-in metadata fields (LrMetadataProvider). Searchable fields work in smart collections
-- ('sdktext:org.autocull.lightroom.<id>') and show in the "AutoCull" tagset of the Metadata panel.
-- Fields without a title are private: the marks before AutoCull wrote, for Clear Auto-Cull Marks.
-- Bump schemaVersion when a field is added (Lightroom then updates the catalog's field table).
local function visible(id, title)
  return { id = id, title = title, dataType = 'string', searchable = true, browsable = true, readOnly = true }
end

return {
  metadataFieldsForPhotos = {
    visible('cullStatus', 'Cull status'),
    visible('verdict', 'Verdict'),
    visible('rejectReason', 'Reject reason'),
    visible('reasons', 'Reasons'),
    visible('sharpness', 'Sharpness'),
    visible('eyes', 'Eyes'),
    visible('exposure', 'Exposure'),
    visible('groupId', 'Group'),
    visible('groupKind', 'Group kind'),
    visible('groupBest', 'Best of group'),
    visible('judgedFrom', 'Judged from'),
    visible('cullError', 'Cull error'),
    { id = 'prevMarks', dataType = 'string' },
    { id = 'appliedMarks', dataType = 'string' },
  },
  schemaVersion = 1,
}
