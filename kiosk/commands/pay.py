"""``onestop pay``: card payments on a terminal, journalled in the local store.

    onestop pay AMOUNT --terminal URL [--account A] [--purpose P] [--json]
    onestop pay refund ATTEMPT_ID AMOUNT [--json]
    onestop pay reverse ATTEMPT_ID [--json]
    onestop pay recover [--terminal URL] [--json]
    onestop pay end-of-day [--terminal URL] [--json]
    onestop pay queue [--json]
    onestop pay resolve ATTEMPT_ID charged|not_charged --supervisor NAME

AMOUNT is in yuan (``500.00``) and becomes fen exactly (Decimal, never float).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation

from drivers.errors import DeviceError, PaymentInDoubt
from drivers.pci import install_log_redaction

from ..runtime import config_from_args, open_store_from

__all__ = ["register", "run", "yuan_to_fen"]

ACTIONS = ("recover", "end-of-day", "refund", "reverse", "queue", "resolve")


def yuan_to_fen(text: str) -> int:
    """``"500.00"`` -> 50000. At most two decimals; must be greater than zero."""
    from pos.payments import InvalidAmount

    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidAmount(f"{text!r} is not an amount in yuan (like 500.00)") from None
    if not value.is_finite() or value.as_tuple().exponent < -2:
        raise InvalidAmount(f"{text!r}: an amount in yuan has at most two decimals")
    fen = value * 100
    if fen <= 0:
        raise InvalidAmount(f"{text!r}: the amount must be greater than zero")
    return int(fen)


def register(sub, parents):
    p = sub.add_parser(
        "pay", parents=parents, help="card payments: pay, refund, reverse, recover, end-of-day",
        description="Take a card payment on a payment terminal (AMOUNT in yuan, e.g. 500.00), or: "
                    "refund ATTEMPT_ID AMOUNT, reverse ATTEMPT_ID, recover (finish interrupted payments), "
                    "end-of-day (close the terminal's day), queue (payments waiting for a supervisor), "
                    "resolve ATTEMPT_ID charged|not_charged. Exit 0 when approved, 1 when declined, "
                    "aborted or in doubt, 2 with one line when the terminal is unreachable or busy.")
    p.add_argument("what", metavar="AMOUNT|ACTION", help="amount in yuan, or one of: " + ", ".join(ACTIONS))
    p.add_argument("args", nargs="*", metavar="ARG", help="arguments of the action")
    p.add_argument("--terminal", metavar="URL", help="payment terminal URL (default: devices.payment_terminal)")
    p.add_argument("--account", default="counter", help="patient/customer account to book on (default: counter)")
    p.add_argument("--purpose", default="deposit", help="what the money is for (default: deposit)")
    p.add_argument("--supervisor", help="name of the supervisor (for resolve)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _terminal(args, config) -> str:
    url = args.terminal or config.get("devices", "payment_terminal")
    if not url:
        raise DeviceError("no payment terminal: give --terminal URL or configure devices.payment_terminal")
    return url


def _need(args, n: int, usage: str) -> list[str]:
    if len(args.args) != n:
        from pos.errors import DomainError
        raise DomainError(f"usage: onestop pay {usage}")
    return args.args


def _status_line(msg) -> None:
    print(f"  … {msg.message_id}", file=sys.stderr, flush=True)


def run(args) -> int:
    from pos.payments import PaymentService

    install_log_redaction()
    config = config_from_args(args)
    store = open_store_from(args, config)
    try:
        svc = PaymentService(store, recovered_approval=config.get("payments", "recovered_approval"),
                             busy_wait=float(config.get("payments", "busy_wait")))
        show = None if args.json else _status_line
        what = args.what
        if what == "recover":
            report = svc.recover(args.terminal)
            _print(args, {"recovered": report}, "\n".join(
                f"{r['attempt_id']}: {r['action']} ({r.get('why', '')})" for r in report) or "nothing to recover")
            return 0 if all(r["action"] != "pending" for r in report) else 1
        if what == "end-of-day":
            res = svc.end_of_day(_terminal(args, config))
            _print(args, res, f"end of day: {'closed' if res['ok'] else 'FAILED ' + res['reason']}; "
                              f"{res['count']} transactions, total {res['total_fen'] / 100:.2f}")
            return 0 if res["ok"] else 1
        if what == "queue":
            rows = svc.supervisor_queue()
            _print(args, {"queue": rows}, "\n".join(
                f"{r['attempt_id']} {r['account']} {r['amount_fen'] / 100:.2f} {r['reason']}" for r in rows) or "empty")
            return 0
        amount = None
        try:
            if what == "resolve":
                aid, resolution = _need(args, 2, "resolve ATTEMPT_ID charged|not_charged --supervisor NAME")
                out = svc.resolve(aid, resolution, supervisor=args.supervisor or "")
            elif what == "refund":
                aid, amount = _need(args, 2, "refund ATTEMPT_ID AMOUNT")
                amount = yuan_to_fen(amount)
                out = svc.refund(aid, amount, terminal_url=args.terminal, on_status=show)
            elif what == "reverse":
                (aid,) = _need(args, 1, "reverse ATTEMPT_ID")
                out = svc.reverse(aid, on_status=show)
            else:
                _need(args, 0, "AMOUNT --terminal URL")
                amount = yuan_to_fen(what)
                out = svc.pay(amount, terminal_url=_terminal(args, config), account=args.account,
                              purpose=args.purpose, on_status=show)
        except PaymentInDoubt as exc:   # e.g. the store failed after the terminal took the command
            _print(args, {"status": "in_doubt", "amount_fen": amount, "reason": str(exc),
                          "message": exc.user_message}, f"in_doubt: {exc}")
            return 1
        doc = out.as_json()
        card = doc["card"]
        _print(args, doc, f"{doc['status']}: {doc['amount_fen'] / 100:.2f} attempt {doc['attempt_id']} "
                          f"receipt {doc['receipt_no'] or '-'} trace {doc['trace_no'] or '-'}"
                          + (f" card {card['masked_pan']} {card['brand'] or ''}" if card else ""))
        return 0 if doc["status"] == "approved" else 1
    finally:
        store.close()


def _print(args, doc: dict, text: str) -> None:
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(text)
