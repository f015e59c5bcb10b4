"""Offline-first sync: the client that drains the outbox, and the central server."""
