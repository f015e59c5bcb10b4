"""The server's routes, one module per audience: devices (:mod:`.device`), the admin API
(:mod:`.admin_api`), the IT page (:mod:`.pages`) and the hospital's bed conflicts
(:mod:`.conflicts`, site-specific). Each module has ``routes(ctx)``."""
