"""A generated month (and the month before) of desk activity through the real paths: the monitoring
centre's alarms and the repair centre's imports through the signed endpoint, the dispatcher's own
intake (hotline, walk-ins, complaint-box slips, lobby-kiosk requests keyed at the desk) and every
step of each order through :class:`pos.desk.service.DeskService` on a device store, synced to the
real server. Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pos.desk.service import DeskService
from pos.payments.cash import CashDrawer
from sync.client import SyncClient

TZ = ZoneInfo("Asia/Shanghai")
F = "%Y-%m-%dT%H:%M:%S.%fZ"

CHANNELS = [("hotline", 40), ("service_desk", 22), ("complaint_box", 9), ("lobby_kiosk", 12), ("other", 3)]
CATEGORIES = [("repair.plumbing", 18), ("repair.electric", 12), ("repair.lift", 4), ("paid.appliance", 6),
              ("paid.cleaning", 5), ("complaint.noise", 8), ("complaint.hygiene", 7), ("complaint.parking", 6),
              ("complaint.fee", 4), ("enquiry.general", 12)]
TEXT = {"repair.plumbing": "厨房水管漏水", "repair.electric": "客厅插座没电", "repair.lift": "电梯门关不上",
        "paid.appliance": "安装空调", "paid.cleaning": "家政保洁 cleaning", "complaint.noise": "楼上装修噪音",
        "complaint.hygiene": "楼道垃圾没清理", "complaint.parking": "车位被占 parking",
        "complaint.fee": "物业费账单有误", "enquiry.general": "请问停水通知"}
CAUSES = {"complaint": [("neighbour_renovation", 30), ("cleaning_missed", 22), ("parking_order", 15),
                        ("fee_error", 10), ("staff_attitude", 8), ("slow_repair", 15)],
          "service_request": [("wear", 50), ("install", 25), ("misuse", 15), ("design", 10)]}
ALARM_POINTS = [f"B{b}-F{f}-{t}" for b in range(1, 7) for f in (1, 5, 9) for t in ("smoke", "water", "lift")]
ALARM_TYPE = {"smoke": "fire", "water": "water", "lift": "lift"}


def _pick(rng, table):
    return rng.choices([a for a, _ in table], [w for _, w in table])[0]


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime(F)


class Month:
    def __init__(self, desk_store, mon, rc, seed: int = 17, per_day: int = 58, lobby_store=None, tech_store=None,
                 tech_share: float = 0.05):
        """``lobby_store``: the lobby kiosk, a device of its own: residents' requests are made there
        and reach the desk through the server (else the desk keys them in). ``tech_store``: a
        technician's phone: ``tech_share`` of the orders are started, deferred and completed there,
        each hand-over between the desk and the phone going through the server."""
        self.tech = DeskService(tech_store) if tech_store is not None else None
        self.tech_sync = SyncClient(tech_store) if tech_store is not None else None
        self.tech_share = tech_share
        self.store, self.mon, self.rc = desk_store, mon, rc
        self.lobby = DeskService(lobby_store) if lobby_store is not None else None
        self.lobby_sync = SyncClient(lobby_store) if lobby_store is not None else None
        self.desk = DeskService(desk_store)
        self.cash = CashDrawer(desk_store)              # paid services: cash at the desk, through the drawer
        self.cash.open_shift("disp1", 0)
        self.sync = SyncClient(desk_store)
        self.rng = random.Random(seed)
        self.per_day = per_day
        self.alarm_no = 0
        self.stop_at = None

    def run(self, first_day: datetime, days: int, stop_at: datetime, scale: float = 1.0) -> None:
        self.stop_at = stop_at
        for d in range(days):
            day = first_day + timedelta(days=d)
            self.day(day, scale)

    def day(self, day: datetime, scale: float) -> None:
        rng = self.rng
        n = max(1, int(self.per_day * scale * rng.uniform(0.8, 1.2)))
        times = sorted(day + timedelta(seconds=rng.randint(7 * 3600, 22 * 3600)) for _ in range(n))
        picks = [(t, _pick(rng, CATEGORIES), _pick(rng, CHANNELS)) for t in times]
        lobby = []
        if self.lobby is not None:                       # residents at the lobby kiosk, synced to the server
            for t, cat, ch in picks:
                if ch == "lobby_kiosk":
                    lobby.append((self.lobby.receive("lobby_kiosk", unit=self._unit(), party="", description=TEXT[cat],
                                                     by="kiosk", at=iso(t)), cat, t))
            self.lobby_sync.sync_once()
        # outside systems first: alarms (bursts per point, merged) and the repair centre's orders
        alarms = []
        for _ in range(max(1, int(3 * scale))):
            point, at = rng.choice(ALARM_POINTS), day + timedelta(seconds=rng.randint(0, 86399))
            for k in range(rng.randint(1, 6)):
                self.alarm_no += 1
                alarms.append({"alarm_id": f"AL{self.alarm_no:06d}", "point": point,
                               "alarm_type": ALARM_TYPE[point.rsplit("-", 1)[1]], "building": point.split("-")[0],
                               "at": iso(at + timedelta(seconds=20 * k)), "text": f"报警 {point}"})
        r = self.mon.post({"alarms": alarms})
        assert r.status_code == 200, r.text
        imports = []
        for _ in range(max(1, int(4 * scale * rng.uniform(0.5, 1.5)))):
            cat = rng.choice(["repair.plumbing", "repair.electric", "paid.appliance"])
            imports.append({"ref": f"WX{rng.randrange(10**9):09d}", "unit": self._unit(), "category": cat,
                            "description": TEXT[cat], "at": iso(day + timedelta(seconds=rng.randint(8 * 3600,
                                                                                                     18 * 3600)))})
        r = self.rc.post({"orders": imports})
        assert r.status_code == 200, r.text
        self.sync.sync_once()
        pulled = [row[0] for row in self.store.conn.execute(
            "SELECT order_no FROM desk_orders WHERE state = 'received' AND channel IN ('monitoring', "
            "'repair_centre') ORDER BY received_at")]
        for no in pulled:
            o = self.desk.order(no)
            self.work(no, o["category"] or "security.fire", o["received_at"])
        for no, cat, t in lobby:                         # pulled by the desk with the alarms and imports
            self.work(no, cat, iso(t))
        for t, cat, ch in picks:
            if lobby and ch == "lobby_kiosk":
                continue
            anonymous = ch == "complaint_box" and rng.random() < 0.4
            no = self.desk.receive(ch, unit=self._unit(), party="" if anonymous else rng.choice(["王芳", "李雷", "张伟"]),
                                   party_role="" if anonymous else rng.choice(["owner", "tenant"]),
                                   description=TEXT[cat], by="disp1", at=iso(t),
                                   fee_related=cat == "complaint.fee")
            self.work(no, cat, iso(t))
        if self.tech is not None:
            self.tech_sync.sync_once()                   # what the phone did last reaches the server
        self.sync.sync_once()

    def _unit(self) -> str:
        return f"{self.rng.randint(1, 6)}-{self.rng.randint(1, 18):02d}{self.rng.randint(1, 4):02d}"

    def work(self, no: str, cat: str, received: str) -> None:
        rng, d = self.rng, self.desk
        t = datetime.fromisoformat(received.replace("Z", "+00:00"))

        def step(minutes_lo, minutes_hi):
            nonlocal t
            t = t + timedelta(minutes=rng.randint(minutes_lo, minutes_hi))
            return None if t >= self.stop_at else iso(t)

        if (at := step(1, 20)) is None:
            return
        sug = d.suggest(TEXT.get(cat, ""))
        if rng.random() < 0.02 and not cat.startswith("security"):
            d.cancel(no, by="disp1", reason="重复登记", at=at)
            return
        d.classify(no, cat, by="disp1", suggested=sug[0][0] if sug else None, at=at)
        o = d.order(no)
        if o["kind"] == "enquiry":
            if (at := step(1, 90)) is not None:
                d.answer(no, by="disp1", note="已答复", at=at)
            return
        if (at := step(2, 60)) is None:
            return
        d.dispatch(no, by="disp1", assignee=None if rng.random() < 0.8 else
                   rng.choice(d.catalogue.teams[d.catalogue.get(cat).team]), at=at)
        o = d.order(no)
        kind_causes = CAUSES["complaint" if o["kind"] == "complaint" else "service_request"]
        rounds = 0
        on_phone = self.tech is not None and rng.random() < self.tech_share
        holder = [d]

        def hold(side):
            """The order's next step is made on ``side``: hand it over through the server first."""
            if side is not holder[0]:
                (self.sync if holder[0] is d else self.tech_sync).sync_once()
                (self.sync if side is d else self.tech_sync).sync_once()
                holder[0] = side
            return side
        w = self.tech if on_phone else d
        while True:
            if (at := step(5, 240)) is None:
                return
            hold(w).start(no, by=o["assignee"] or "tech", at=at)
            if rng.random() < 0.1:
                if (at := step(30, 600)) is None:
                    return
                w.defer(no, by="tech", reason="等配件", at=at)
                if (at := step(60, 1440)) is None:
                    return
                w.resume(no, by="tech", at=at)
            while True:
                if (at := step(20, 900 if rng.random() < 0.8 else 4000)) is None:
                    return
                hold(w).complete(no, by="tech", note="已处理", photos=[f"{no}-{rounds}.jpg"],
                                 cause_code=_pick(rng, kind_causes), at=at)
                if (at := step(10, 600)) is None:
                    return
                if rng.random() < 0.08:
                    hold(d).qc(no, by="sup", passed=False, reasons=["返工"], at=at)
                    continue
                hold(d).qc(no, by="sup", passed=True, at=at)
                break
            if o["payable"] and rounds == 0:
                if (at := step(5, 120)) is None:
                    return
                fee = d.catalogue.get(cat).fee_fen or 5000
                d.request_payment(no, by="disp1", amount_fen=fee, at=at)
                if rng.random() < 0.15 or (at := step(30, 2880)) is None:
                    return                                       # unpaid (awaiting payment)
                d.pay_cash(self.cash, no, cashier="disp1", tendered_fen=fee + rng.choice([0, 0, 500, 2000]), at=at)
            elif not o["payable"]:
                if (at := step(5, 120)) is None:
                    return
                d.open_follow_up(no, by="disp1", at=at)
            else:
                return
            if rng.random() < 0.07:
                return                                           # follow-up not made yet
            if (at := step(60, 2880)) is None:
                return
            rating = _pick(rng, [("satisfied", 70), ("acceptable", 20), ("dissatisfied", 10)])
            if o["payable"] and rating == "dissatisfied":
                rating = "acceptable"
            d.follow_up(no, by="disp1", rating=rating, reasons=["慢"] if rating == "dissatisfied" else [],
                        at=at)
            if rating != "dissatisfied":
                return
            rounds += 1
