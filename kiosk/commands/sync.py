"""``onestop sync [--once]``: push the outbox and pull events; ``onestop enrol CODE --server URL``."""

from __future__ import annotations

import logging
import time

from ..runtime import config_from_args, open_store_from

log = logging.getLogger(__name__)


def register(sub, parents):
    p = sub.add_parser("sync", parents=parents, help="sync this kiosk's outbox with the central server",
                       description="Push the outbox in order, then pull and apply the server's events. "
                                   "Runs until interrupted, or once with --once (exit 0 when everything was "
                                   "acknowledged, 2 when the server could not be reached).")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--server", help="server URL (default: the enrolled one, or sync.server_url)")
    p.set_defaults(func=run_sync)
    e = sub.add_parser("enrol", parents=parents, help="enrol this kiosk with the central server",
                       description="Exchange a one-time enrolment code (from `onestop server enrol-code`) "
                                   "for this kiosk's own credential, kept in the local store.")
    e.add_argument("code", metavar="CODE")
    e.add_argument("--server", required=True, help="server URL, e.g. https://sync.hospital.local:8742")
    e.add_argument("--name", default="", help="a name for IT staff (e.g. 'Ward 3 lobby')")
    e.add_argument("--ca-file", default=None, help="CA certificate (PEM) to trust for https")
    e.set_defaults(func=run_enrol)


def _client(args, config, store):
    from sync.client import SyncClient, get_state
    server = args.server or get_state(store, "server_url") or config.get("sync", "server_url") or None
    ca_file = config.get("sync", "ca_file") or get_state(store, "ca_file") or None
    return SyncClient(store, server, ca_file=ca_file, **SyncClient.options(config))


def run_sync(args) -> int:
    config = config_from_args(args)
    store = open_store_from(args, config)
    client = _client(args, config, store)
    if args.once:
        out = client.sync_once()
        print(f"pushed {out['pushed']}, cursor {out['cursor']}, {out['waiting']} waiting")
        return 0
    from sync.client import SyncWorker
    worker = SyncWorker(lambda: client, interval=config.get("sync", "interval"), store=store).start()
    try:
        last = None
        while True:
            time.sleep(1)
            text = worker.status().text("en")
            if text != last:
                print(text, flush=True)
                last = text
    finally:
        worker.stop()


def run_enrol(args) -> int:
    from sync.client import enrol
    config = config_from_args(args)
    store = open_store_from(args, config)
    enrol(store, args.server, args.code, name=args.name, ca_file=args.ca_file or config.get("sync", "ca_file") or None)
    print(f"{store.device_id}: enrolled with {args.server}")
    return 0
