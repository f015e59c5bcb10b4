"""The card-payment step the kiosk flows share: charge, then map the outcome to the next state."""

from __future__ import annotations

import logging

from drivers.errors import DeviceError, PaymentBlocked, PaymentError, PaymentInDoubt

from ..errors import DomainError
from ..hospital import views

log = logging.getLogger(__name__)

__all__ = ["charge", "latest_receipt"]

DECLINED = "The card was declined. No money was taken."
GO_TO_WINDOW = "Please go to window {window}."


def latest_receipt(hospital, inpatient_no: str, kind: str) -> str:
    a = hospital.admission(inpatient_no)
    r = views.latest_receipt_no(hospital.conn, a["id"], kind)
    if r is None:  # the poster runs in the posting transaction; no receipt means it did not post
        raise DomainError(f"{inpatient_no}: the approved {kind} was not booked; see the payment journal")
    return r


def charge(flow, purpose: str, on_status=None):
    """Charge ``flow.amount_fen`` to ``flow.admission``'s account. Moves the flow to ``printing``,
    ``declined``, ``in_doubt`` or ``device_fault``; an in-doubt attempt is never sent again."""
    flow.move("paying")
    inpatient_no = flow.admission["inpatient_no"]
    site = flow.site
    try:
        # flow.pay_with: another method of the same interface (a QR payment, pos.payments.qr)
        pay = getattr(flow, "pay_with", None) or site.payments.pay
        out = pay(flow.amount_fen, terminal_url=site.device("payment_terminal"),
                                account=inpatient_no, purpose=purpose, on_status=on_status)
    except (PaymentInDoubt, PaymentBlocked) as exc:
        log.warning("%s %s: payment not settled: %s", purpose, inpatient_no, exc)
        flow.problem = exc.user_message
        flow.move("in_doubt")
        return None
    except (DeviceError, PaymentError) as exc:
        log.error("%s %s: card terminal: %s", purpose, inpatient_no, exc)
        flow.problem = GO_TO_WINDOW
        flow.move("device_fault")
        return None
    flow.payment = out
    status = out.public_status
    if status == "approved":
        flow.receipt_no = latest_receipt(site.hospital, inpatient_no, "deposit" if purpose == "deposit" else "collection")
        flow.move("printing")
    elif status == "in_doubt":
        flow.problem = PaymentInDoubt.user_message
        flow.move("in_doubt")
    else:
        flow.problem = DECLINED
        flow.move("declined")
    return out
