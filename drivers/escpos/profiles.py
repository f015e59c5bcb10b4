"""Printer profiles as data: what a printer can do, never a check on its model name.

Each profile names the python-escpos capability profile it builds on (``base``: paper width,
fonts, cutter, code pages) and adds what python-escpos does not describe:

``chinese``     ``"native"`` (Chinese firmware: FS & then GB18030 text) or ``"raster"`` (we draw the
                text with our CJK font and send images)
``qr``          ``"native"`` (GS ( k) or ``"raster"``
``width_px``    printable dots per line; ``col_px`` dots per half-width column (12 for font A)
``status``      answers DLE EOT real-time status
``drawer``      has a cash-drawer port (ESC p)
``label``       a label (wristband) printer in ESC/POS label mode
A URL may override ``chinese`` and ``qr`` (``?chinese=raster``).
"""

from __future__ import annotations

__all__ = ["PROFILES", "get_profile", "Profile"]

Profile = dict

PROFILES: dict[str, Profile] = {
    # generic 80 mm printer with Chinese firmware (GB18030 font in ROM), the common case in China
    "cn80": {"base": "default", "model": "Generic 80 mm, Chinese firmware", "chinese": "native",
             "qr": "native", "width_px": 576, "col_px": 12, "status": True, "drawer": True, "cut": True,
             "label": False, "dpi": 203},
    # 58 mm printer with Chinese firmware and no 2D code support
    "cn58": {"base": "default", "model": "Generic 58 mm, Chinese firmware", "chinese": "native",
             "qr": "raster", "width_px": 384, "col_px": 12, "status": True, "drawer": False, "cut": False,
             "label": False, "dpi": 203},
    # Epson TM-T88V (international firmware: no Chinese font) - everything CJK goes as raster
    "TM-T88V": {"base": "TM-T88V", "model": "Epson TM-T88V", "chinese": "raster", "qr": "native",
                "width_px": 512, "col_px": 12, "status": True, "drawer": True, "cut": True, "label": False,
                "dpi": 180},
    # the most conservative profile: raster everything, no status
    "raster80": {"base": "default", "model": "Unknown 80 mm", "chinese": "raster", "qr": "raster",
                 "width_px": 576, "col_px": 12, "status": False, "drawer": False, "cut": True, "label": False,
                 "dpi": 203},
    # a label printer that speaks only ESC/POS label mode (wristbands as one raster image per label)
    "label-escpos": {"base": "default", "model": "ESC/POS label printer", "chinese": "raster", "qr": "raster",
                     "width_px": 200, "col_px": 12, "status": True, "drawer": False, "cut": False,
                     "label": True, "dpi": 203},
}


def get_profile(name: str, overrides: dict | None = None) -> Profile:
    try:
        prof = dict(PROFILES[name], name=name)
    except KeyError:
        raise KeyError(f"unknown printer profile {name!r}; known: {', '.join(sorted(PROFILES))}") from None
    for k, v in (overrides or {}).items():
        if v not in (None, "", "auto"):
            if k in ("chinese", "qr") and v not in ("native", "raster"):
                raise ValueError(f"{k} must be native, raster or auto")
            prof[k] = v
    return prof
