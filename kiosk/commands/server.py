"""``onestop server``: the central sync server; ``server enrol-code`` and ``server revoke`` for admins."""

from __future__ import annotations

import os

from ..runtime import data_dir


def _db_default() -> str:
    return os.environ.get("ONESTOP_SERVER_DB") or f"sqlite:///{data_dir() / 'server.sqlite'}"


def register(sub, parents):
    p = sub.add_parser("server", parents=parents, help="run the central sync server (or admin it)",
                       description="Run the central server: push/pull API for kiosks, enrolment, and the IT "
                                   "staff page at /admin. Embedded SQLite by default; PostgreSQL with "
                                   "--db postgresql://...")
    p.add_argument("--db", default=None, help="sqlite:///PATH (default: the data dir) or postgresql://...")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8742, help="port (default 8742; 0 = any free port, printed)")
    p.add_argument("--tls-cert", help="TLS certificate (PEM); serve https")
    p.add_argument("--tls-key", help="TLS private key (PEM)")
    p.add_argument("--admin-token", default=os.environ.get("ONESTOP_ADMIN_TOKEN", ""),
                   help="token for /admin and the admin API (default $ONESTOP_ADMIN_TOKEN; empty = admin off)")
    p.add_argument("--rate", type=float, default=50.0, help="requests per second per device (default 50)")
    p.add_argument("--burst", type=int, default=100, help="burst per device (default 100)")
    p.add_argument("--timezone", default="Asia/Shanghai", help="local time zone of the admin page")
    p.add_argument("--workers", type=int, default=1,
                   help="server processes on the one socket (default 1; one per CPU core for a busy site, "
                        "see docs/performance.md)")
    p.add_argument("--his-listen", metavar="HOST:PORT", help="run the HIS interface (HL7 v2.5 over MLLP) here")
    p.add_argument("--his-mapping", metavar="TOML", help="the site's HIS mapping (default assets/config/his.toml)")
    p.add_argument("--his-endpoint", metavar="HOST:PORT", help="the HIS's MLLP port for what onestop sends")
    p.add_argument("--fhir-token", default=os.environ.get("ONESTOP_FHIR_TOKEN", ""),
                   help="read-only token for the FHIR facade at /fhir (default $ONESTOP_FHIR_TOKEN)")
    p.set_defaults(func=run_server)
    ssub = p.add_subparsers(dest="server_command", metavar="SUBCOMMAND")
    c = ssub.add_parser("enrol-code", parents=parents, help="issue a one-time enrolment code",
                        description="Print a one-time code a kiosk exchanges for its credential "
                                    "(onestop enrol CODE --server URL).")
    c.add_argument("--db", default=None)
    c.add_argument("--ttl", type=int, default=86400, help="seconds the code stays valid (default 86400)")
    c.set_defaults(func=run_code)
    r = ssub.add_parser("revoke", parents=parents, help="revoke a device's credential",
                        description="Refuse every further request from DEVICE.")
    r.add_argument("device", metavar="DEVICE")
    r.add_argument("--db", default=None)
    r.set_defaults(func=run_revoke)


def run_server(args) -> int:
    from sync.server.app import Settings
    from sync.server.run import serve
    if bool(args.tls_cert) != bool(args.tls_key):
        from sync.errors import SyncError
        raise SyncError("--tls-cert and --tls-key go together")
    serve(args.db or _db_default(), args.host, args.port,
          Settings(admin_token=args.admin_token, rate=args.rate, burst=args.burst, timezone=args.timezone,
                   fhir_token=args.fhir_token),
          tls_cert=args.tls_cert, tls_key=args.tls_key, workers=args.workers,
          his={"listen": args.his_listen, "mapping": args.his_mapping, "endpoint": args.his_endpoint})
    return 0


def run_code(args) -> int:
    from sync.server.db import open_backend
    from sync.server.service import issue_enrol_code
    print(issue_enrol_code(open_backend(args.db or _db_default()), args.ttl))
    return 0


def run_revoke(args) -> int:
    from sync.errors import SyncError
    from sync.server.db import open_backend
    from sync.server.service import revoke
    if not revoke(open_backend(args.db or _db_default()), args.device):
        raise SyncError(f"no enrolled, unrevoked device {args.device!r}")
    print(f"{args.device}: revoked")
    return 0
