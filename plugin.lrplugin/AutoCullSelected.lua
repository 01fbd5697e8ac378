-- Library ▸ Plug-in Extras ▸ Auto-Cull Selected
require('Commands').runMenu('Auto-Cull Selected', 'autoCullSelected')
