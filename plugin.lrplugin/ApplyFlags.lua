-- Library ▸ Plug-in Extras ▸ Apply Auto-Cull Flags
require('Commands').runMenu('Apply Auto-Cull Flags', 'applyFlags')
