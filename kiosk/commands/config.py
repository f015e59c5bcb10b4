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


def run_check(args) -> int:
    config = load_config(args.file)
    n = sum(len(v) for v in config.values.values())
    print(f"{args.file}: OK ({n} keys set)")
    return 0
