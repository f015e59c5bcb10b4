"""``onestop diag-bundle``: write the diagnostics bundle (config minus secrets, devices, logs, versions)."""

from __future__ import annotations

from pos.config import Config
from pos.errors import ConfigError

from ..runtime import config_from_args


def register(sub, parents):
    p = sub.add_parser("diag-bundle", parents=parents, help="write a diagnostics bundle (zip) for support",
                       description="Write a zip with the configuration minus secrets (PIN hashes, keys, tokens, "
                                   "passwords), every device with its status, the recent log with card numbers "
                                   "masked, and the software versions. Prints the path of the zip.")
    p.add_argument("--out", metavar="FILE", help="zip to write (default: onestop-diag-TIME.zip in the data dir)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..diagbundle import write_bundle

    try:
        config = config_from_args(args)
    except ConfigError as exc:            # a broken config is exactly when support needs the bundle
        print(f"onestop diag-bundle: {exc} (bundling the built-in defaults)")
        config = Config(path=getattr(args, "config", None))
    path = write_bundle(config, args.out)
    print(path)
    return 0
