"""The club pack's section of the site configuration (``[club]``)."""

from __future__ import annotations

from pos.config import Key

__all__ = ["CONFIG"]


def _positive(v):
    return None if v > 0 else "must be greater than 0"


def _printer_url(v):
    """Empty, or an ESC/POS printer URL the driver registry accepts (checked without touching it)."""
    if not v:
        return None
    from drivers.errors import DeviceError
    from drivers.registry import check_url

    try:
        check_url(v, "receipt_printer")
    except DeviceError as exc:
        return f"bad printer URL: {exc}"
    return None


def _mqtt_url(v):
    return None if str(v).startswith("mqtt://") else "must be an mqtt://host[:port] URL"


CONFIG = {
    "club": {
        "broker": Key(str, "mqtt://127.0.0.1:1883", "The club's MQTT broker (Mosquitto on the club box).", _mqtt_url),
        "ack_timeout": Key((int, float), 20, "Seconds a call waits for an ack before it sounds again "
                                             "(and again before it goes to the manager).", _positive),
        "message_expiry": Key(int, 3600, "Seconds the broker keeps a call for a device that is away.", _positive),
        "venue": Key(str, "", "The venue's name in the greeting at the door (e.g. red.逸香)."),
        "kitchen_printer": Key(str, "", "The kitchen's ESC/POS ticket printer (a device URL, e.g. "
                               "escpos+tcp://10.0.0.21:9100); empty = none, the tickets wait in the journal.", _printer_url),
        "bar_printer": Key(str, "", "The bar's ESC/POS ticket printer (a device URL); empty = none.", _printer_url),
        "valet_printer": Key(str, "", "The valet's key-tag printer (an ESC/POS printer URL); "
                             "empty = none.", _printer_url),
    },
}
