"""Demo data for the service desk (a mainland residential community: names in Simplified Chinese):
units and their owners or tenants, and a few dozen work orders from every channel, spread over
the last days and left in every state of their life, so that the dispatcher's queue, its SLA
timers (some overdue) and the finance queue are full when ``onestop demo desk`` opens.

The category tree and the teams are the pack's catalogue (``assets/config/desk_categories.toml``).
``seed_site(site)`` is the pack's demo hook (``Pack.demo``); it seeds a store once.
"""

from __future__ import annotations

import time

from ..ids import utcnow_iso

__all__ = ["UNITS", "ORDERS", "seed", "seed_site"]

#: unit, party, role (owner / tenant)
UNITS = [
    ("1-0101", "赵建国", "owner"), ("1-0502", "钱晓燕", "tenant"), ("2-0303", "孙立平", "owner"),
    ("2-1104", "李文静", "owner"), ("3-0601", "周海涛", "tenant"), ("3-1201", "吴秀兰", "owner"),
    ("5-0802", "郑志强", "owner"), ("6-1502", "王丽华", "tenant"), ("7-0201", "冯德明", "owner"),
    ("8-2003", "陈雅琴", "owner"),
]

#: hours ago received (some open orders are past their SLA, most are not), channel, unit index (None: no unit), description, category ("" = not yet
#: classified), how far it went (a state of pos.desk.fsm), fee in fen for a fee-related intake
ORDERS = [
    (0.2, "hotline", 5, "厨房水管漏水，楼下天花板滴水", "", "received", None),
    (0.4, "lobby_kiosk", 0, "门口路灯不亮", "", "received", None),
    (0.6, "complaint_box", 7, "夜里楼上装修噪音太大", "", "received", None),
    (0.8, "service_desk", 3, "物业费账单金额有误", "", "received", None),
    (1.0, "monitoring", None, "5号楼电梯困人报警", "repair.lift", "received", None),
    (1.5, "hotline", 1, "卫生间插座没电", "repair.electric", "classified", None),
    (2.0, "repair_centre", 6, "家里热水器需要安装", "paid.appliance", "classified", None),
    (2.5, "other", 9, "小区停车位被占用", "complaint.parking", "classified", None),
    (3.0, "hotline", 2, "阳台水龙头关不上", "repair.plumbing", "dispatched", None),
    (0.5, "monitoring", None, "地下车库烟感报警", "security.fire", "dispatched", None),
    (4.0, "service_desk", 4, "楼道垃圾没人清理", "complaint.hygiene", "dispatched", None),
    (5.0, "lobby_kiosk", 8, "客厅灯忽明忽暗", "repair.electric", "in_progress", None),
    (6.0, "hotline", 0, "预约家庭深度保洁", "paid.cleaning", "in_progress", None),
    (8.0, "repair_centre", 3, "2号楼电梯异响", "repair.lift", "deferred", None),
    (10.0, "complaint_box", 5, "单元门禁经常失灵", "security.intrusion", "in_progress", None),
    (14.0, "hotline", 6, "厨房下水道堵塞", "repair.plumbing", "completed", None),
    (18.0, "service_desk", 7, "门厅地面湿滑没有警示", "complaint.hygiene", "completed", None),
    (20.0, "monitoring", None, "7号楼水泵房漏水报警", "repair.plumbing", "qc_passed", None),
    (22.0, "hotline", 1, "空调安装", "paid.appliance", "awaiting_payment", None),
    (26.0, "lobby_kiosk", 2, "地毯清洗", "paid.cleaning", "awaiting_payment", None),
    (30.0, "service_desk", 9, "跳闸后整屋停电", "repair.electric", "follow_up", None),
    (34.0, "hotline", 4, "楼下烧烤油烟扰民", "complaint.noise", "follow_up", None),
    (40.0, "other", 8, "快递柜在哪里", "enquiry.general", "closed", None),
    (44.0, "repair_centre", 0, "卫生间漏水已修好", "repair.plumbing", "closed", None),
    (48.0, "complaint_box", 3, "物业费为什么涨价", "complaint.fee", "classified", 0),
    (52.0, "service_desk", 6, "车位管理费多收了一个月", "", "received", 12000),
    (56.0, "hotline", 5, "重复来电，已在处理", "repair.plumbing", "cancelled", None),
    (1.2, "monitoring", None, "3号楼消防通道堵塞报警", "security.fire", "in_progress", None),
    (2.2, "lobby_kiosk", 7, "电梯按钮失灵", "repair.lift", "dispatched", None),
    (20.0, "hotline", 2, "窗户玻璃破裂", "repair", "dispatched", None),
    (80.0, "service_desk", 1, "楼道灯不亮", "repair.electric", "closed", None),
    (90.0, "other", 9, "装修垃圾堆在楼道", "complaint.hygiene", "follow_up", None),
]

#: how far along the life of an order each state is (pos.desk.fsm)
_RANK = {"received": 0, "classified": 1, "dispatched": 2, "in_progress": 3, "deferred": 3, "completed": 4,
         "qc_passed": 5, "awaiting_payment": 6, "follow_up": 7, "closed": 8, "cancelled": 1}


def seed_site(site) -> list[str]:
    """The pack's demo hook (``Pack.demo``): seed the demo community of ``site`` (a pos.site.Site)."""
    return seed(site.desk, cash=site.cash)


def seed(desk, now: float | None = None, cash=None) -> list[str]:
    """Every order of :data:`ORDERS`, received ``hours ago`` before ``now`` (a Unix time) and walked
    to its state (a paid one paid in cash at the desk, through ``cash``: a CashDrawer). Nothing is
    done if the store already has work orders. Returns the new numbers."""
    if desk.store.conn.execute("SELECT count(*) FROM desk_orders").fetchone()[0]:
        return []
    if cash is None:
        from ..payments.cash import CashDrawer
        cash = CashDrawer(desk.store)
    if not desk.store.conn.execute("SELECT 1 FROM cash_shifts WHERE cashier = 'demo' AND closed_at IS NULL").fetchone():
        cash.open_shift("demo", 0)
    base = time.time() if now is None else now
    made = []
    for hours, channel, unit_i, text, category, state, fee in ORDERS:
        unit, party, role = UNITS[unit_i] if unit_i is not None else ("", "", "")
        t0 = base - hours * 3600
        step = [0]

        def at() -> str:                      # each step a few minutes after the one before
            step[0] += 1
            return utcnow_iso(t0 + 420 * step[0])

        no = desk.receive(channel, unit=unit, party=party, party_role=role, description=text, by="demo",
                          fee_related=fee is not None, amount_fen=fee or None, at=utcnow_iso(t0), source_ref=f"demo-{len(made) + 1}")
        made.append(no)
        rank = _RANK[state]
        if rank >= 1 and category:
            desk.classify(no, category, "demo", at=at())
        if state == "cancelled":
            desk.cancel(no, "demo", "重复来电", at=at())
            continue
        if category.startswith("enquiry") and state == "closed":
            desk.answer(no, "demo", "在1号楼大堂东侧", at=at())
            continue
        if rank >= 2:
            desk.dispatch(no, "demo", at=at())
        if rank >= 3:
            assignee = desk.order(no)["assignee"]
            desk.start(no, assignee, at=at())
            if state == "deferred":
                desk.defer(no, assignee, "等待配件", at=at())
        if rank >= 4:
            desk.complete(no, assignee, "已处理完毕", [f"demo/{no}.jpg"], at=at())
        if rank >= 5:
            desk.qc(no, "主管", True, at=at())
        if rank >= 6:
            o = desk.order(no)
            if o["payable"]:
                fen = desk.catalogue.get(category).fee_fen or 6000
                desk.request_payment(no, "demo", fen, at=at())
                if rank >= 7:
                    desk.pay_cash(cash, no, cashier="demo", tendered_fen=fen, at=at())
            else:
                desk.open_follow_up(no, "demo", at=at())
        if rank >= 8:
            desk.follow_up(no, "客服回访", "satisfied", at=at())
    return made
