"""``onestop club cashier``: the cashier's station (the bill, payments, fapiao, receipt, close).

The station opens the club box's store (``--store``, the box's file on the same machine) and
signs in as the ``cashier`` role on the club's broker. Its devices come from ``[devices]``:
``payment_terminal`` (ZVT), ``card_reader`` (``pcsc://<reader name>``: the member cards),
``scanner`` (the WeChat title QR) and ``receipt_printer``. WeChat's ``scantitle`` needs the club's
official-account access token: ``--wechat URL`` and ``ONESTOP_WECHAT_TOKEN`` (empty: type titles).
"""

from __future__ import annotations

import argparse
import os


def register_cashier(csub, parents) -> None:
    p = csub.add_parser("cashier", parents=parents, help="the cashier's station: bills, payments, fapiao",
                        description="The cashier's screen: the butler's coming-to-pay calls, the room's bill, the "
                                    "guest's signature, cash, bank card, member card or split, fapiao, receipt "
                                    "and the day's close.")
    p.add_argument("--staff", required=True, help="the cashier signing in")
    p.add_argument("--device", default=None, help="this station's device id (default: made once and kept)")
    p.add_argument("--site", default="club")
    p.add_argument("--broker", default=None)
    p.add_argument("--wechat", default="", help="WeChat API base URL for invoice titles (empty: typed titles only)")
    p.add_argument("--language", choices=("zh-Hans", "zh-Hant", "en"), default="zh-Hans")
    p.add_argument("--windowed", action="store_true")
    p.add_argument("--size", metavar="WxH", default=None)
    p.set_defaults(func=run_cashier)


def run_cashier(args: argparse.Namespace) -> int:
    from drivers.url import parse_url
    from kiosk.launch import kivy_environment
    from kiosk.runtime import data_dir, store_path
    from pos.club.cashier import Cashier
    from pos.club.store import open_club_store
    from pos.ids import new_device_id
    from pos.printing import PrintJournal

    from .commands import _club, _config

    config = _config(args)
    device = args.device
    if not device:
        f = data_dir() / "club-cashier-device-id"
        f.parent.mkdir(parents=True, exist_ok=True)
        if not f.exists():
            f.write_text(new_device_id("P"))
        device = f.read_text().strip()
    kivy_environment(args.windowed, args.size)
    from .cashier import CashierApp
    from .cashier_card import MemberCardReader
    from .cashier_wechat import WeChatTitles
    from .device import ClubDevice

    devices = config.devices
    store = open_club_store(store_path(args, config))
    tz = config.get("site", "timezone")
    cashier = Cashier(store, terminal_url=devices.get("payment_terminal", ""), cashier=args.staff)
    cashier.recover()
    reader_url = devices.get("card_reader", "")
    u = parse_url(reader_url) if reader_url.startswith("pcsc://") else None
    reader = MemberCardReader((u.netloc + u.path).strip("/") if u else "")
    wechat = WeChatTitles(args.wechat, token=lambda: os.environ.get("ONESTOP_WECHAT_TOKEN", "")) if args.wechat else None
    phone = ClubDevice(args.site, args.broker or _club(config, "broker", "mqtt://127.0.0.1:1883"), device, "cashier",
                       args.staff, state_path=data_dir() / f"club-{device}.json").start(wait=None)
    try:
        CashierApp(phone, cashier, language=args.language, card_reader=reader, scanner_url=devices.get("scanner", ""),
                   wechat=wechat, printing=PrintJournal.from_config(store, config),
                   printer_url=devices.get("receipt_printer", ""), venue=_club(config, "venue", ""), tz=tz).run()
    finally:
        phone.stop()
        reader.close()
        store.close()
    return 0
