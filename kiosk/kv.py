"""kv files, each loaded once: ``assets/kv/<name>.kv`` from package resources (never from the
working directory), or a pack screen's own kv text. The app and every screen load kv through here,
so no screen needs to import the app."""

from __future__ import annotations

from importlib import resources

from kivy.lang import Builder

__all__ = ["load_kv", "load_kv_text"]

_loaded: set[str] = set()


def load_kv(name: str) -> None:
    """Load ``assets/kv/<name>.kv`` once."""
    if name not in _loaded:
        load_kv_text(name, resources.files("assets").joinpath("kv", f"{name}.kv").read_text(encoding="utf-8"))


def load_kv_text(name: str, text: str) -> None:
    """Load kv ``text`` under ``name`` once."""
    if name in _loaded:
        return
    Builder.load_string(text, filename=f"{name}.kv")
    _loaded.add(name)
