"""The server's routes, one module per audience: devices (:mod:`.device`), the admin API
(:mod:`.admin_api`) and the IT page (:mod:`.pages`). Each module has ``routes(ctx)``."""
