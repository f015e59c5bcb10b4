"""Card data hygiene (PCI DSS): mask PANs, redact text, keep them out of the logs.

* :func:`mask_pan` keeps at most the first 6 and the last 4 digits (``622202******1234``);
  PANs shorter than 13 digits keep only the last 4.
* :func:`redact` replaces every run of 12-19 digits (spaces or dashes allowed between groups) in a
  text with its masked form. Print lines, exception texts and log messages pass through it.
* :class:`RedactingFilter` is a ``logging.Filter`` that redacts the formatted message of every
  record; :func:`install_log_redaction` puts it on every handler of the root logger.
"""

from __future__ import annotations

import logging
import re

__all__ = ["mask_pan", "redact", "RedactingFilter", "install_log_redaction", "MASK"]

MASK = "*"

_PAN_RUN = re.compile(r"(?<![0-9])(?:[0-9][ -]?){11,18}[0-9](?![0-9])")


def mask_pan(pan: str) -> str:
    """Masked form of a PAN (digits, possibly already masked with ``*`` or ``E``)."""
    digits = "".join(c if c.isdigit() else MASK for c in pan if c.isalnum() or c == MASK)
    n = len(digits)
    if n == 0:
        return ""
    keep_head = 6 if n >= 13 else 0
    keep_tail = 4 if n > 4 else max(0, n - 1)
    out = digits[:keep_head] + MASK * (n - keep_head - keep_tail) + digits[n - keep_tail:]
    return out


def _mask_match(m: re.Match) -> str:
    raw = m.group(0)
    digits = re.sub(r"[ -]", "", raw)
    return mask_pan(digits)


def redact(text: str) -> str:
    """``text`` with every card-number-like digit run masked."""
    if not text:
        return text
    return _PAN_RUN.sub(_mask_match, text)


class RedactingFilter(logging.Filter):
    """Masks PAN-like digit runs in log records (message, arguments and exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string: leave it for logging to report
            return True
        clean = redact(msg)
        if record.exc_info and record.exc_info[1] is not None and not getattr(record, "_onestop_redacted", False):
            # format the traceback now, redacted; formatters use a preset exc_text as it is
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record._onestop_redacted = True
        record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add the redacting filter to every handler of ``logger`` (default: the root logger)."""
    logger = logger or logging.getLogger()
    for h in logger.handlers:
        if _FILTER not in h.filters:
            h.addFilter(_FILTER)
