"""A site pack kept outside the platform: a repair desk that books technicians' time slots.

It exists to prove the site-pack contract (``pos.packs``): it adds a command kind with a payload
schema and a server handler (a generic resource claim over a time range), a store migration and a
server migration, a client projection, a config section, a service and a screen, and no platform
file names it. Loaded by dotted path: ``pos.packs.enable(["tests.sitepack_demo.pack:PACK"])``.
"""
