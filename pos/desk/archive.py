"""The two-copy archive (C-6, 一式两份): when an order closes, the server queues it
(``desk_archive``, in the transaction that closes it); :func:`render_pending` renders each queued
order with its whole history as PDF/A-3b (WeasyPrint's ``pdf_variant``, the CJK font embedded, the
history also attached as JSON, which PDF/A-3 allows), stores the office copy with its SHA-256 and
queues the owner's copy (``owner_state`` waiting -> queued -> printed -> filed). :func:`intact`
is the hash check of any copy.

Plain Python over the server's backend (``backend.tx()`` -> a cursor); nothing here opens a socket.
"""

from __future__ import annotations

import hashlib
import html
import json

from ..documents.common import local_time
from .catalogue import load_catalogue
from .report_pdf import FONT
from .slips import label

__all__ = ["render_order", "render_pending", "intact", "order_history", "record_owner_copy"]

_EVENTS = {"received": ("受理", "受理", "Received")}


def order_history(cur, order_no: str) -> tuple[dict, list[dict]]:
    cols = ("order_no", "channel", "unit", "building", "party", "kind", "category", "priority", "deadline", "payable",
            "fee_related", "emergency", "team", "assignee", "cause_code", "reopen_count", "alarm_count", "state",
            "received_at", "device_id", "order_json")
    row = cur.execute(f"SELECT {', '.join(cols)} FROM desk_orders WHERE order_no = ?", (order_no,)).fetchone()
    if row is None:
        raise LookupError(f"no work order {order_no} on the server")
    order = dict(zip(cols, row))
    order["description"] = json.loads(order.pop("order_json")).get("description", "")
    tcols = ("event", "from_state", "to_state", "at", "by_whom", "assignee", "rating", "amount_fen", "cause_code",
             "device_id", "command_id")
    steps = [dict(zip(tcols, r)) for r in cur.execute(
        f"SELECT {', '.join(tcols)} FROM desk_transitions WHERE order_no = ? ORDER BY at, command_id",
        (order_no,)).fetchall()]
    return order, steps


def render_order(order: dict, steps: list[dict], *, lang: str = "zh-Hans", tz: str = "Asia/Shanghai",
                 site_name: str = "") -> bytes:
    """The order and every step as PDF/A-3b, the history attached as ``history.json``."""
    from weasyprint import HTML, Attachment

    e = lambda v: html.escape("" if v is None else str(v))  # noqa: E731
    cat = load_catalogue().categories.get(order.get("category") or "")
    rows = "".join(
        f"<tr><td>{e(local_time(s['at'], tz))}</td><td>{e(s['event'])}</td><td>{e(s['from_state'])} → "
        f"{e(s['to_state'])}</td><td>{e(s['by_whom'])}</td><td>{e(s['assignee'])}</td>"
        f"<td>{e(s['rating'] or '')}{' ' + e(s['amount_fen']) + ' fen' if s['amount_fen'] is not None else ''}"
        f"</td></tr>" for s in steps)
    doc = f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{e(order['order_no'])}</title><style>@page {{ size: A4; margin: 15mm }}
body {{ font-family: {', '.join(repr(f) for f in FONT)}; font-size: 10pt }}
table {{ border-collapse: collapse }} td, th {{ border: 0.5pt solid #666; padding: 2pt 4pt }}</style></head><body>
<h1>{e(site_name)} {label('Order no.', lang)} {e(order['order_no'])}</h1>
<p>{label('Category', lang)}: {e(cat.label(lang) if cat else order.get('category'))} · {label('Unit', lang)}:
{e(order['unit'])} · {label('Resident', lang)}: {e(order['party'] or label('Anonymous', lang))}</p>
<p>{label('Description', lang)}: {e(order['description'])}</p>
<p>{e(order['channel'])} · {e(local_time(order['received_at'], tz))} · {label('Team', lang)} {e(order['team'])}
· {label('Assignee', lang)} {e(order['assignee'])} · reopened {e(order['reopen_count'])}</p>
<table><tr><th>time</th><th>event</th><th>state</th><th>by</th><th>assignee</th><th></th></tr>{rows}</table>
</body></html>"""
    history = json.dumps({"order": order, "steps": steps}, ensure_ascii=False, sort_keys=True, indent=1)
    return HTML(string=doc).write_pdf(
        pdf_variant="pdf/a-3b", attachments=[Attachment(string=history, name="history.json",
                                                        relationship="Source")])


def intact(pdf: bytes, sha256: str) -> bool:
    """The hash check: True when ``pdf`` is the copy whose SHA-256 was recorded."""
    return hashlib.sha256(bytes(pdf)).hexdigest() == sha256


def render_pending(backend, *, limit: int = 50, lang: str = "zh-Hans", tz: str = "Asia/Shanghai",
                   site_name: str = "") -> list[str]:
    """Render the queued closed orders (oldest first); returns their numbers. Each is committed on
    its own, so a crash loses at most the order being rendered (it stays queued)."""
    from ..ids import utcnow_iso

    with backend.tx() as cur:
        queued = [r[0] for r in cur.execute("SELECT order_no FROM desk_archive WHERE state = 'queued' "
                                            "ORDER BY queued_at, order_no LIMIT ?", (limit,)).fetchall()]
    done = []
    for no in queued:
        with backend.tx() as cur:
            order, steps = order_history(cur, no)
        pdf = render_order(order, steps, lang=lang, tz=tz, site_name=site_name)
        digest = hashlib.sha256(pdf).hexdigest()
        with backend.tx() as cur:
            cur.execute("UPDATE desk_archive SET state = 'stored', rendered_at = ?, sha256 = ?, pdf = ?, "
                        "owner_state = 'queued' WHERE order_no = ? AND state = 'queued'",
                        (utcnow_iso(), digest, pdf, no))
        done.append(no)
    return done


def record_owner_copy(backend, order_no: str, step: str, who: str = "") -> None:
    """The owner's copy: ``printed`` (with who signed on receipt) then ``filed`` (in the household's file)."""
    from ..ids import utcnow_iso

    col, want = {"printed": ("owner_printed_at", "queued"), "filed": ("owner_filed_at", "printed")}[step]
    with backend.tx() as cur:
        cur.execute(f"UPDATE desk_archive SET owner_state = ?, {col} = ?, owner_received_by = "
                    "CASE WHEN ? = '' THEN owner_received_by ELSE ? END WHERE order_no = ? AND owner_state = ?",
                    (step, utcnow_iso(), who, who, order_no, want))
        if cur.rowcount != 1:
            raise ValueError(f"{order_no}: the owner's copy is not {want}")
