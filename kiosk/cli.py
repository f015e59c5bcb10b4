"""The ``onestop`` command line.

Every command takes ``--config FILE`` and ``--store PATH`` (or ``ONESTOP_STORE``), before or after
the command's name. Failures print
one clear line on stderr and exit non-zero; the traceback goes to the log file only.

The platform's commands are modules under :mod:`kiosk.commands`, listed explicitly in
:data:`COMMANDS`; a site pack adds its own (``Pack.commands``). Each module has
``register(subparsers, parents)`` and sets ``func`` on its parser.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

__all__ = ["main", "COMMANDS", "build_parser"]

#: explicit, ordered list of command modules (docs/cli.md documents each; a test checks)
COMMANDS = [
    "kiosk.commands.ui",        # demo, kiosk, counter, diag
    "kiosk.commands.devices",   # devices
    "kiosk.commands.config",    # config check
    "kiosk.commands.card",      # card read
    "kiosk.commands.sync",      # sync, enrol
    "kiosk.commands.server",    # server, server enrol-code, server revoke
    "kiosk.commands.pay",       # pay, pay recover, pay end-of-day ...
    "kiosk.commands.print",     # print test, print journal, print retry, print reprint
    "kiosk.commands.diag_bundle",  # diag-bundle
]

EXIT_ERROR = 2      # a clear, expected failure (bad input, device missing, declined ...)
EXIT_CRASH = 3      # a bug: logged with its traceback


def common_parent(top: bool = True) -> argparse.ArgumentParser:
    """The options every command takes. They may come before the command (``onestop --config F
    devices``) or after it: the top-level parser holds the defaults, and a subcommand's copy
    (``top=False``) sets a value only when it is given there, so it never resets one given first."""
    keep = {} if top else {"default": argparse.SUPPRESS}
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--config", metavar="FILE", help="site configuration (TOML)", **keep)
    p.add_argument("--store", metavar="PATH", help="local SQLite store (default: $ONESTOP_STORE, the config, or the user data dir)",
                   **(keep or {"default": os.environ.get("ONESTOP_STORE")}))
    p.add_argument("-v", "--verbose", action="count", help="more log output on stderr", **(keep or {"default": 0}))
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onestop",
        description="onestop: offline-first kiosk and point-of-service system with its own hardware drivers.",
        parents=[common_parent(top=True)],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    parent = common_parent(top=False)
    from pos import packs

    for modname in [*COMMANDS, *(m for p in packs.active() for m in p.commands)]:
        importlib.import_module(modname).register(sub, [parent])
    return parser


def main(argv: list[str] | None = None) -> int:
    from drivers.errors import OnestopError

    from .runtime import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    log_path = setup_logging(args.verbose)
    log = logging.getLogger("onestop.cli")
    try:
        rc = args.func(args)
        return int(rc or 0)
    except OnestopError as exc:
        log.warning("%s failed: %s", args.command, exc, exc_info=True)
        print(f"onestop {args.command}: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_ERROR)
    except KeyboardInterrupt:
        print(f"onestop {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the person, the traceback for the technician
        log.exception("%s crashed", args.command)
        print(f"onestop {args.command}: internal error: {type(exc).__name__}: {exc} (details in {log_path})",
              file=sys.stderr)
        return EXIT_CRASH


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
