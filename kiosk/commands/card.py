"""``onestop card read``: wait for an insurance card, ID card, e-voucher QR or scan; print who it is."""

from __future__ import annotations

import json

from ..runtime import config_from_args

__all__ = ["register", "run_read", "IDENTITY_ROLES"]

#: the configured device roles an identity can come from
IDENTITY_ROLES = ("card_reader", "id_reader", "camera", "scanner")


def register(sub, parents):
    p = sub.add_parser("card", parents=parents, help="identity cards and codes",
                       description="Identity cards (social-security card, eGK, resident ID card) and "
                                   "e-voucher QR codes.")
    csub = p.add_subparsers(dest="card_command", metavar="SUBCOMMAND")
    csub.required = True
    r = csub.add_parser("read", parents=parents, help="wait for a card or code and print the identity",
                        description="Wait for a card or a scanned code and print one identity record. "
                                    "Exits 0 with the record; exits 2 with one line when nothing comes "
                                    "before the timeout, or the card is unknown, expired or unreadable.")
    r.add_argument("--reader", action="append", metavar="URL",
                   help="device URL to read from (repeatable; default: the configured card_reader, "
                        "id_reader, camera and scanner)")
    r.add_argument("--timeout", type=float, default=30.0, metavar="S", help="seconds to wait (default 30)")
    r.add_argument("--json", action="store_true", help="print the record as one JSON object")
    r.set_defaults(func=run_read)


def run_read(args) -> int:
    from drivers.errors import DeviceError
    from drivers.identity_wait import wait_for_identity

    urls = args.reader
    if not urls:
        config = config_from_args(args)
        urls = [(role, url) for role, url in config.devices.items() if role in IDENTITY_ROLES and url]
    if not urls:
        raise DeviceError("no identity device: give --reader URL or configure devices.card_reader")
    ident = wait_for_identity(urls, args.timeout)
    record = ident.as_json()
    if args.json:
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(f"{record['source']}: {record['name']} ({record['sex']}, born {record['birth_date'] or '-'}) "
              f"id {record['id_number'] or '-'} card {record['card_number'] or '-'} "
              f"valid until {record['valid_until'] or '-'}")
    return 0
