-- Library ▸ Plug-in Extras ▸ Create AutoCull Smart Collections
require('Commands').runMenu('Create AutoCull Smart Collections', 'createCollections')
