"""The HIS interface's tables on the central server (``Pack.server_migrations``).

``his_inbound``: every inbound message by MSH-10 with its body's hash, state and the ACK sent
(a repeat gets the same ACK); ``his_visits``: what the server knows of each HIS visit (its state,
location, and onestop's admission once a kiosk registered it); ``his_outbound``: messages to the
HIS and their delivery; ``his_state``: the outbound follower's place in the command log.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

_TABLES = [
    """CREATE TABLE IF NOT EXISTS his_inbound (
        control_id TEXT PRIMARY KEY, interface TEXT NOT NULL, msg_type TEXT NOT NULL, visit TEXT NOT NULL DEFAULT '',
        body_sha TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, ack_code TEXT NOT NULL, ack TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '', received_at TEXT NOT NULL, applied_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS his_inbound_held ON his_inbound (status, visit)",
    """CREATE TABLE IF NOT EXISTS his_visits (
        visit TEXT PRIMARY KEY, notice_no TEXT NOT NULL, patient_id TEXT NOT NULL DEFAULT '',
        inpatient_no TEXT, state TEXT NOT NULL, ward TEXT NOT NULL DEFAULT '', bed TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS his_outbound (
        control_id TEXT PRIMARY KEY, interface TEXT NOT NULL, source_seq BIGINT NOT NULL, msg_type TEXT NOT NULL,
        visit TEXT NOT NULL DEFAULT '', body TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL, last_error TEXT NOT NULL DEFAULT '', ack TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, sent_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS his_outbound_queue ON his_outbound (status, next_at)",
    """CREATE TABLE IF NOT EXISTS his_state (name TEXT PRIMARY KEY, value BIGINT NOT NULL)""",
]

MIGRATIONS = {"sqlite": [("his_m001", _TABLES)], "postgres": [("his_m001", _TABLES)]}
