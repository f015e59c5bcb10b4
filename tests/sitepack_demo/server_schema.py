"""The repair desk's table on the central server."""

_TABLE = ["CREATE TABLE techdesk_bookings (visit_no TEXT PRIMARY KEY, technician TEXT NOT NULL, "
          "device_id TEXT NOT NULL, command_id TEXT NOT NULL)"]

MIGRATIONS = {"sqlite": [("m001_bookings", _TABLE)], "postgres": [("m001_bookings", _TABLE)]}
