-- Library ▸ Plug-in Extras ▸ Clear Auto-Cull Marks
require('Commands').runMenu('Clear Auto-Cull Marks', 'clearMarks')
