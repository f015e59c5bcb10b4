"""Warm the printing stack in the background once the first frame is on the screen.

The printer drivers import their heavy dependencies (python-escpos and its capability database,
PIL, the barcode and QR encoders) on first use, and the renderers load fonts on their first
document. Left to the first patient, that is most of a second between "paid" and "printing".
Here every configured printer's driver renders a sample of the document it prints for a patient
(a deposit receipt, a wristband: the same fonts, codes and encoders) once, without sending
anything (opening a network printer's device does not connect to it).
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

__all__ = ["warm_printing"]


def warm_printing(config) -> list[str]:
    """Render each configured printer's test page once; returns the roles warmed."""
    from drivers.registry import open_device

    samples = _samples(config)
    warmed = []
    for role in ("receipt_printer", "label_printer"):
        url = config.devices.get(role, "")
        if not url or not url.split(":", 1)[0].endswith("+tcp"):
            continue        # only devices that open without touching the hardware
        t0 = time.perf_counter()
        try:
            dev = open_device(url, role)
            try:
                dev.render(samples[role])
            finally:
                dev.close()
        except Exception:  # noqa: BLE001 - a warm-up must never disturb the kiosk
            log.warning("warming the %s driver (%s) failed", role, url, exc_info=True)
            continue
        warmed.append(role)
        log.info("printing stack warmed for %s in %.0f ms", role, (time.perf_counter() - t0) * 1000)
    return warmed


def _samples(config) -> dict[str, dict]:
    from pos.documents import DepositReceiptData, Site, WristbandData, deposit_receipt, wristband

    site = Site.from_config(config)
    receipt = DepositReceiptData(receipt_no="WARM-000000", patient_name="张三", inpatient_no="ZY0000000000",
                                 amount_fen=500000, method="card", operator_id="WARM",
                                 paid_at="2026-01-01T00:00:00Z", card_masked="6222********1234",
                                 terminal_ref="000000", ward="内科一病区")
    band = WristbandData(name="张三", sex="M", age="45", inpatient_no="ZY0000000000", ward="内科一病区", bed="1",
                         admitted_on="2026-01-01", allergy="青霉素")
    return {"receipt_printer": deposit_receipt(site, receipt).to_dict(),
            "label_printer": wristband(site, band).to_dict()}
