"""The central server: storage backends, the command registry, the ASGI app, the admin page.

Run it with ``onestop server`` (see :mod:`sync.server.run`)."""

from .app import Settings, create_app
from .db import open_backend

__all__ = ["create_app", "Settings", "open_backend"]
