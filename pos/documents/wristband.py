"""Patient wristband (腕带) laid out for a 25 mm x 280 mm label.

The label is read along its length: the layout lists what goes left to right on the band, and a
label renderer places it rotated. Blocks in order: name line, details, allergy flag, Code128 and QR
of the inpatient number.
"""

from __future__ import annotations

from .common import label
from .inputs import Site, WristbandData
from .layout import Layout

__all__ = ["wristband", "WRISTBAND_MM"]

WRISTBAND_MM = (25, 280)   # width across the band, length along it


def wristband(site: Site, w: WristbandData) -> Layout:
    if w.sex not in ("M", "F", "U", ""):
        raise ValueError("sex must be 'M', 'F', or 'U'/'' (not recorded)")
    lang = site.lang
    L = lambda m: label(m, lang)  # noqa: E731
    # never guessed: a band without a recorded sex leaves it out rather than print a wrong one
    sex = {"M": L("Male"), "F": L("Female")}.get(w.sex, "")
    doc = Layout(kind="label", title=L("Wristband"), lang=lang, width_mm=WRISTBAND_MM[0], label_mm=WRISTBAND_MM)
    doc.text("  ".join(x for x in (w.name, sex, w.age) if x), size=(2, 2), bold=True)
    doc.text(w.inpatient_no, size=(2, 1), bold=True)
    bed = f" {w.bed}{L('Bed')[0]}" if w.bed else ""     # no lone "床" before a bed is assigned
    doc.text(f"{w.ward}{bed}  {L('Admitted')} {w.admitted_on}  {site.hospital_name}")
    if w.allergy:
        doc.text(f"!! {L('Allergy')}: {w.allergy}", bold=True)
    doc.barcode(w.inpatient_no, height=50, hri=False)
    doc.qr(w.inpatient_no, size=3)
    return doc
