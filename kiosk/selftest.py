"""Technician self-tests, one per device kind, with no Kivy: the diagnostics screens run them in
worker threads and show the :class:`Result`.

* :func:`read_card` - wait for a card, read it, give its ATR (PC/SC) and the parsed identity.
* :func:`print_test_page` - the printer's status, then the technician test page through the
  print journal (so it is journalled like any other job).
* :func:`terminal_enquiry` / :func:`test_payment` - a status enquiry, and a 0.01 charge that is
  reversed at once, both through :class:`pos.payments.service.PaymentService` (journalled).
* :data:`SCANNER_TEST_CODE` / :func:`check_scan` - a code whose characters move under AZERTY and
  QWERTZ, checked with the wedge decoder's layout detection.
* :func:`camera_frames` - frames from the camera for the preview, with QR decoding.

Every test counts its runs and failures in :data:`COUNTERS` (per role) for the device list.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from drivers.errors import DeviceError, OnestopError
from drivers.pci import redact

__all__ = ["Result", "COUNTERS", "LAST_ERRORS", "record", "role_kind", "read_card", "print_test_page",
           "test_page_layout", "terminal_enquiry", "test_payment", "SCANNER_TEST_CODE", "check_scan",
           "scan_result", "CameraFeed", "KINDS", "DIAG_ACCOUNT", "DIAG_PURPOSE", "TEST_AMOUNT_FEN"]

log = logging.getLogger(__name__)

#: role -> kind of self-test offered for it
KINDS = {"card_reader": "card", "id_reader": "card", "receipt_printer": "printer", "label_printer": "printer",
         "payment_terminal": "terminal", "scanner": "scanner", "camera": "camera"}

DIAG_ACCOUNT = "diag:selftest"
DIAG_PURPOSE = "diag_test"
TEST_AMOUNT_FEN = 1
#: digits, letters and punctuation that AZERTY and QWERTZ both move (1->&, y<->z, -->ß, ;->m/ö ...)
SCANNER_TEST_CODE = "OS-Test;1234/yz"

_lock = threading.Lock()
#: role -> {"tests": n, "failures": n, plus the opened device's own counters}
COUNTERS: dict[str, dict[str, int]] = {}
#: role -> the last error a self-test met (technician text, PANs redacted)
LAST_ERRORS: dict[str, str] = {}


@dataclass
class Result:
    ok: bool
    msgid: str                                       # summary for the screen (translated)
    lines: list[str] = field(default_factory=list)   # technician details (data, not translated)
    error: str = ""                                  # technician text of the failure
    data: dict = field(default_factory=dict)


def role_kind(role: str) -> str:
    return KINDS.get(role, "")


def record(role: str, result: Result, device=None) -> Result:
    """Count a test run (and merge the device's own counters) for the device list."""
    with _lock:
        c = COUNTERS.setdefault(role, {})
        c["tests"] = c.get("tests", 0) + 1
        if not result.ok:
            c["failures"] = c.get("failures", 0) + 1
            LAST_ERRORS[role] = redact(result.error or result.msgid)
        for name, n in dict(getattr(device, "counters", {}) or {}).items():
            c[name] = c.get(name, 0) + n
    log.info("self-test %s: %s %s", role, "ok" if result.ok else "FAILED", redact(result.error))
    return result


def _fail(exc: Exception, msgid: str) -> Result:
    text = redact(f"{type(exc).__name__}: {exc}")
    return Result(False, msgid, [text], text)


# -- card readers ------------------------------------------------------------------------------
def read_card(url: str, role: str, timeout: float = 15.0, cancel: threading.Event | None = None,
              opener=None) -> Result:
    from drivers.registry import open_device

    if not url:
        return record(role, Result(False, "This device is not configured.", error="not configured"))
    dev = None
    try:
        dev = (opener or open_device)(url, role)
        if not hasattr(dev, "read_identity"):
            raise DeviceError(f"{url}: this driver cannot read cards")
        ident = dev.read_identity(timeout=timeout, cancel=cancel)
    except (OnestopError, OSError) as exc:
        return record(role, _fail(exc, "The card could not be read."), dev)
    finally:
        if dev is not None:
            dev.close()
    atr = getattr(dev, "last_atr", None)
    rec = ident.as_json()
    lines = [f"ATR: {atr.hex(' ').upper() if atr else '-'}"]
    for key, value in rec.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v)
        lines.append(f"{key}: {value if value not in (None, '') else '-'}")
    for w in ident.warnings:
        lines.append(f"warning: {w}")
    return record(role, Result(True, "Card read.", lines, data={"atr": atr.hex().upper() if atr else None,
                                                               "record": rec}), dev)


# -- printers ----------------------------------------------------------------------------------
def test_page_layout(config, url: str, role: str):
    """The technician test page for ``url`` (the same page as ``onestop print test``)."""
    from drivers.registry import check_url, scheme_module
    from pos.documents import Site, TestPageData, printer_test_label, printer_test_page
    from pos.ids import utcnow_iso

    site = Site(hospital_name=config.site_name, timezone=config.get("site", "timezone"),
                counter_window=str(config.get("site", "counter_window")),
                lang="zh-Hant" if config.language == "zh-Hant" else "zh-Hans")
    u = check_url(url, role)
    opts = u.options_for(scheme_module(u).OPTIONS, scheme_module(u).GRAMMAR)
    model, caps, code_page = u.scheme, (), "-"
    if u.scheme.startswith("escpos"):
        from drivers.escpos.printer import make_profile

        prof = make_profile(u, opts)
        model = prof["model"]
        code_page = "GB18030 (FS &)" if prof["chinese"] == "native" else "CP437 + CJK raster"
        caps = tuple(f"{k}={prof[k]}" for k in ("chinese", "qr", "width_px", "status", "drawer", "cut"))
    data = TestPageData(printer_url=url, profile=str(opts.get("profile", u.scheme)), model=model,
                        code_page=code_page, capabilities=caps, printed_at=utcnow_iso())
    return printer_test_label(site, data) if role == "label_printer" else printer_test_page(site, data)


def print_test_page(config, journal, url: str, role: str) -> Result:
    """Status, then the test page through ``journal`` (a :class:`pos.printing.PrintJournal`)."""
    from drivers.registry import probe

    if not url:
        return record(role, Result(False, "This device is not configured.", error="not configured"))
    before = probe(url, role)
    lines = [f"status: {before.state.value} - {before.reason}"]
    lines += [f"{k}: {v}" for k, v in before.detail.items()]
    from drivers.registry import open_device

    dev = None
    try:
        layout = test_page_layout(config, url, role)
        dev = open_device(url, role)
        if not hasattr(dev, "print_layout"):      # sim:// only reports a status
            raise DeviceError(f"{url}: this driver cannot print")
        outcome = journal.print("test_page", layout, role, url, ref="diag", printer=dev)
    except OnestopError as exc:
        return record(role, _fail(exc, "The test page was not printed."), dev)
    finally:
        if dev is not None:
            dev.close()
    lines.append(f"job {outcome.job_id}: {outcome.state} ({outcome.nbytes} bytes)")
    if not outcome.ok:
        return record(role, Result(False, "The test page was not printed.", lines, outcome.technician,
                                   {"job_id": outcome.job_id}))
    return record(role, Result(True, "Test page printed.", lines, data={"job_id": outcome.job_id,
                                                                        "status": before.as_dict()}))


# -- card terminal ------------------------------------------------------------------------------
def terminal_enquiry(url: str, opener=None) -> Result:
    from drivers.registry import open_device

    role = "payment_terminal"
    if not url:
        return record(role, Result(False, "This device is not configured.", error="not configured"))
    term = None
    try:
        term = (opener or open_device)(url, role)
        if hasattr(term, "enquire"):
            info = term.enquire()
        else:
            st = term.status()
            info = {"state": st.state.value, "reason": st.reason, **st.detail}
    except (OnestopError, OSError) as exc:
        return record(role, _fail(exc, "The card terminal did not answer."), term)
    finally:
        if term is not None:
            term.close()
    code = info.get("result_code", 0)
    lines = [redact(f"{k}: {v}") for k, v in info.items()]
    ok = code in (0, None) and info.get("state", "connected") in ("connected", "busy")
    return record(role, Result(ok, "The card terminal is ready." if ok else "The card terminal reports a fault.",
                               lines, "" if ok else f"status {info}", {"info": info}))


def test_payment(payments, url: str, on_status=None) -> Result:
    """Charge 0.01 through ``payments`` (a PaymentService), then reverse it."""
    role = "payment_terminal"
    if not url:
        return record(role, Result(False, "This device is not configured.", error="not configured"))
    lines: list[str] = []
    try:
        _check_terminal(url)
        sale = payments.pay(TEST_AMOUNT_FEN, terminal_url=url, account=DIAG_ACCOUNT, purpose=DIAG_PURPOSE,
                            on_status=on_status)
        lines.append(f"sale {sale.attempt_id}: {sale.status} {sale.amount_fen} fen receipt {sale.receipt_no or '-'} "
                     f"card {sale.masked_pan or '-'}")
        if sale.status not in ("approved", "posted"):
            return record(role, Result(False, "The test payment was not approved.", lines,
                                       f"sale {sale.status}: {sale.reason}", {"sale": sale.as_json()}))
        rev = payments.reverse(sale.attempt_id, on_status=on_status)
        lines.append(f"reversal {rev.attempt_id}: {rev.status} receipt {rev.receipt_no or '-'}")
    except OnestopError as exc:
        res = _fail(exc, "The test payment failed.")
        res.lines = lines + res.lines
        return record(role, res)
    ok = rev.status in ("approved", "posted")
    return record(role, Result(ok, "Test payment charged and reversed." if ok else "The reversal failed. "
                               "Check the payment journal.", lines, "" if ok else f"reversal {rev.status}: {rev.reason}",
                               {"sale": sale.as_json(), "reversal": rev.as_json()}))


def _check_terminal(url: str) -> None:
    """Refuse before any journal row when the driver cannot take payments (sim:// only reports
    a status): a half-made intent would block the terminal."""
    from drivers.registry import open_device

    dev = open_device(url, "payment_terminal")
    try:
        if not all(hasattr(dev, m) for m in ("authorise", "reverse", "last_receipt")):
            raise DeviceError(f"{url}: this driver cannot take payments")
    finally:
        dev.close()


# -- scanner -----------------------------------------------------------------------------------
def check_scan(text: str) -> Result:
    """What the scanner typed for :data:`SCANNER_TEST_CODE`: layout right, remapped, or garbled."""
    from drivers.identity import LayoutMismatch
    from drivers.scanner import check_code

    try:
        got = check_code(text, (lambda s: s == SCANNER_TEST_CODE,))
    except LayoutMismatch as exc:
        return Result(False, "The scanner and the system use different keyboard layouts.",
                      [f"typed: {text}", f"expected: {SCANNER_TEST_CODE}", str(exc)], str(exc))
    except OnestopError as exc:
        return Result(False, "The scanned code is not the test code.",
                      [f"typed: {text}", f"expected: {SCANNER_TEST_CODE}"], str(exc))
    return Result(True, "Scanner and keyboard layout are correct.", [f"typed: {got}"])


def scan_result(event) -> Result | None:
    """A :class:`drivers.scanner` decoder event -> the test result (None for human typing)."""
    from drivers.scanner import Scan, ScanError

    if isinstance(event, Scan):
        return record("scanner", check_scan(event.text))
    if isinstance(event, ScanError):
        from drivers.identity import LayoutMismatch

        msg = ("The scanner and the system use different keyboard layouts." if isinstance(event.error, LayoutMismatch)
               else "The scanned code is not the test code.")
        return record("scanner", Result(False, msg, [str(event.error)], str(event.error)))
    return None


# -- camera ------------------------------------------------------------------------------------
class CameraFeed:
    """Reads frames from the camera in its own thread; ``latest()`` is the newest frame and
    ``codes`` what was decoded so far. Adapter over :class:`drivers.camera.CameraScanner`, which
    offers no public frame read (it uses the device's ``_frame``)."""

    def __init__(self, url: str, fps: float = 12.0, opener=None):
        from drivers.registry import open_device

        self.url = url
        self.dev = (opener or open_device)(url, "camera")
        self.interval = 1.0 / fps
        self.frames = 0
        self.codes: list[str] = []
        self.error = ""
        self._frame = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="diag-camera", daemon=True)

    def start(self) -> "CameraFeed":
        self._thread.start()
        return self

    def latest(self):
        with self._lock:
            frame, self._frame = self._frame, None
            return frame

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.dev._frame()
                if frame is not None:
                    self.frames += 1
                    for payload in self.dev.decoder.decode(frame):
                        if payload not in self.codes:
                            self.codes.append(payload)
                            log.info("diag camera %s: code of %d chars by %s", self.url, len(payload),
                                     self.dev.decoder.last_engine)
                    with self._lock:
                        self._frame = frame
                self._stop.wait(self.interval)
        except (OnestopError, OSError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("diag camera %s: %s", self.url, exc)

    def stop(self) -> Result:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(2)
        self.dev.counters["frames"] = self.frames
        self.dev.close()
        ok = bool(self.codes) and not self.error
        res = Result(ok, "QR code decoded." if ok else "No code was found.",
                     [f"frames: {self.frames}"] + [f"code: {redact(c)}" for c in self.codes],
                     self.error or ("" if ok else "no code decoded"))
        return record("camera", res, self.dev)

