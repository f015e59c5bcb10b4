"""The cashier's part of ``onestop club demo --autoplay``: room 8's bill, paid by member card and
cash, its fapiao asked for, and the printed bill, receipt and fapiao request slip written as PNGs
(printed on a virtual ESC/POS printer and rendered from what it received)."""

from __future__ import annotations

from pathlib import Path

from drivers.registry import open_device
from drivers.sim.printer import VirtualPrinter, render_doc
from kiosk.i18n import tr
from pos.club.bill import add_item, club_bill_lines
from pos.club.cashier import Cashier, fapiao_request_layout, receipt_layout

__all__ = ["cashier_documents", "DEMO_MENU"]

DEMO_MENU = [("前菜拼盘", 1, 38800, "1"), ("花胶鸡汤", 6, 12800, "2"), ("清蒸东星斑", 1, 98800, "3"),
             ("杨枝甘露", 6, 3800, "4"), ("Château Margaux 2015", 1, 388000, "wine")]


def _png(doc, path: Path) -> Path:
    from PIL import Image

    img = render_doc(doc).convert("L")            # 576 dots: 80 mm paper at 203 dpi
    img = img.resize((720, img.height * 720 // img.width), Image.LANCZOS)     # a screen preview
    page = Image.new("L", (img.width + 96, img.height + 96), 225)             # the strip on grey
    page.paste(img, (48, 48))
    page.save(path)
    return path


def cashier_documents(store, res_id: str, folder: Path, lang: str = "zh-Hans") -> list[Path]:
    t = lambda m, **kw: tr(m, lang, **kw)   # noqa: E731
    ordered = club_bill_lines(store, res_id)             # the room's order (pos.club.orders), if taken
    for item in (DEMO_MENU[-1:] if ordered else DEMO_MENU):   # and the bottle the sommelier opened
        add_item(store, res_id, *item)
    cashier = Cashier(store, cashier="收银")
    cashier.cash.open_shift("收银", 100000)
    cashier.cards.issue("E3B0C442", "王建国", "246810")
    cashier.cards.top_up("E3B0C442", 300000, 60000, staff="收银")
    room = store.conn.execute("SELECT room FROM club_reservations WHERE res_id = ?", (res_id,)).fetchone()[0]
    bill = cashier.open_for_room(room)
    no = bill["bill_no"]
    written = []
    with VirtualPrinter().start() as vp:
        dev = open_device(f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80", "receipt_printer")
        try:
            def out(layout, name):
                dev.print_layout(layout.to_dict())
                written.append(_png(vp.wait_docs(len(written) + 1)[-1], folder / f"{name}.png"))

            out(receipt_layout(bill, t, lang=lang, venue="red.逸香", for_signature=True), "club-bill")
            cashier.confirm_printed(no)
            cashier.pay_member(no, "E3B0C442", 200000, "246810")
            due = cashier.bill(no)["due_fen"]
            cashier.pay_cash(no, due, (due // 10000 + 1) * 10000)
            req = cashier.request_fapiao(no, "上海红逸餐饮管理有限公司", "91310000MA1FL8XX2B")
            bill = cashier.bill(no)
            out(receipt_layout(bill, t, lang=lang, venue="red.逸香",
                               balances={"E3B0C442": cashier.cards.balance("E3B0C442").total_fen}), "club-receipt")
            out(fapiao_request_layout(req, t, lang=lang), "club-fapiao-request")
        finally:
            dev.close()
    return written
