"""``onestop config check FILE``: validate a configuration file."""

from __future__ import annotations

from pos.config import load_config


def register(sub, parents):
    p = sub.add_parser("config", parents=parents, help="configuration tools",
                       description="Configuration tools.")
    csub = p.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    csub.required = True
    c = csub.add_parser("check", parents=parents, help="validate a configuration file",
                        description="Validate FILE: every section, key, type and device URL. "
                                    "Prints OK, or one line naming the file, line and key, and exits 2.")
    c.add_argument("file", metavar="FILE")
    c.set_defaults(func=run_check)
    register_pin_hash(csub, parents)


def run_check(args) -> int:
    config = load_config(args.file)
    n = sum(len(v) for v in config.values.values())
    print(f"{args.file}: OK ({n} keys set)")
    return 0


def register_pin_hash(csub, parents):
    h = csub.add_parser("pin-hash", parents=parents, help="hash a staff PIN for the config",
                        description="Print the PBKDF2 hash of a staff PIN, for staff.cashier_pin or "
                                    "staff.technician_pin. Without --pin it asks for the PIN.")
    h.add_argument("--pin", help="the PIN (default: ask without echo)")
    h.set_defaults(func=run_pin_hash)


def run_pin_hash(args) -> int:
    import getpass

    from pos.errors import ConfigError
    from pos.staff import hash_pin

    pin = args.pin if args.pin is not None else getpass.getpass("PIN: ")
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ConfigError("a PIN is 4 to 12 digits")
    print(hash_pin(pin))
    return 0
