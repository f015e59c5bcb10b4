"""What every command needs: logging, the config, the store, the opened devices."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import platformdirs

from pos.config import Config, load_config
from pos.private import PrivateRotatingFileHandler

__all__ = ["setup_logging", "config_from_args", "store_path", "open_store_from", "data_dir", "log_dir"]


def data_dir() -> Path:
    return Path(os.environ.get("ONESTOP_DATA_DIR") or platformdirs.user_data_dir("onestop", appauthor=False))


def log_dir() -> Path:
    return Path(os.environ.get("ONESTOP_LOG_DIR") or platformdirs.user_log_dir("onestop", appauthor=False))


_configured = False


def setup_logging(verbose: int = 0) -> Path:
    """Log to a rotating file for the technician (INFO+) and to stderr (WARNING+, more with -v)."""
    global _configured
    path = log_dir() / "onestop.log"
    if _configured:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    fh = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    fh.setFormatter(fmt)
    root.addHandler(fh)
    eh = logging.StreamHandler()
    eh.setLevel(logging.WARNING if not verbose else logging.DEBUG)
    eh.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # one clear line on stderr is the CLI's job; keep tracebacks in the file
    eh.addFilter(lambda rec: verbose > 0 or not rec.exc_info)
    root.addHandler(eh)
    _configured = True
    return path


def config_from_args(args) -> Config:
    return load_config(getattr(args, "config", None))


def store_path(args, config: Config) -> Path:
    explicit = getattr(args, "store", None) or os.environ.get("ONESTOP_STORE") or config.get("store", "path")
    return Path(explicit) if explicit else data_dir() / "store.sqlite"


def open_store_from(args, config: Config):
    from pos.store import Store

    return Store(store_path(args, config), device_id=config.get("site", "device_id") or None)
