"""What a keyboard-wedge scanner's keystrokes turn into under other keyboard layouts.

A wedge scanner sends key codes for a US keyboard; an OS set to French AZERTY or German QWERTZ
turns them into other characters (``1`` -> ``&``, ``y`` -> ``z``, ``-`` -> ``ß``). Each table
maps the character the scanner meant (US) to the character the OS produced; characters not in a
table come out unchanged.
"""

from __future__ import annotations

__all__ = ["LAYOUTS", "as_typed", "as_meant"]


def _pairs(meant: str, produced: str) -> dict[str, str]:
    assert len(meant) == len(produced)
    return dict(zip(meant, produced))


_AZERTY = _pairs(
    "1234567890!@#$%^&*()-_" "qwazQWAZ" "m;M:,<.>/?'\"[]{}\\|`~",
    "&é\"'(-è_çà1234567890)°" "azqwAZQW" ",m?M;.:/!§ù%^$¨£*µ²³",
)
_QWERTZ = _pairs(
    "yzYZ@#^&*()-_=+[]{};:'\"\\|/?<>`~",
    "zyZY\"§&/()=ß?´`ü+Ü*öÖäÄ#'-_;:^°",
)

LAYOUTS: dict[str, dict[str, str]] = {"azerty": _AZERTY, "qwertz": _QWERTZ}
_INVERSE = {name: {v: k for k, v in table.items()} for name, table in LAYOUTS.items()}


def as_typed(text: str, layout: str) -> str:
    """What the OS shows when a US-programmed scanner sends ``text`` under ``layout``."""
    table = LAYOUTS[layout]
    return "".join(table.get(c, c) for c in text)


def as_meant(text: str, layout: str) -> str:
    """Undo :func:`as_typed` (for diagnosis only: a remapped code is never used as an ID)."""
    inv = _INVERSE[layout]
    return "".join(inv.get(c, c) for c in text)
