"""The daily fee list at the kiosk (H-A5): any day of the stay, shown and printed, free.

    identify ──► list ──► (printed)
        └► not_admitted
"""

from __future__ import annotations

import datetime as dt

from ..documents.common import local_time
from ..hospital import views
from .base import Flow
from .lookup import identify_stay

__all__ = ["DailyListFlow"]


class DailyListFlow(Flow):
    initial = "identify"
    TRANSITIONS = {"identify": ("list", "not_admitted"), "list": ("list",)}

    def __init__(self, site, *, operator_id: str, lang: str = "zh-Hans"):
        super().__init__()
        self.site, self.operator_id, self.lang = site, operator_id, lang
        self.admission: dict | None = None
        self.day = ""
        self.first_day = ""
        self.last_day = ""
        self.daily = None
        self.print_problems: list[str] = []
        self.problem = ""

    def identified(self, identity=None, inpatient_no: str | None = None) -> str:
        if not identify_stay(self, identity, inpatient_no):
            return self.state
        h = self.site.hospital
        first = views.first_service_date(h.conn, self.admission["id"])
        self.last_day = max(h.today(), first or "")
        admitted = local_time(self.admission["admitted_at"], h.tz)[:10]     # the site's date, not UTC's
        self.first_day = min(d for d in (first, admitted, self.last_day) if d)
        self.show(self.last_day)
        self.move("list")
        return self.state

    def show(self, day: str):
        """The list for ``day`` (kept within the stay)."""
        day = min(max(day, self.first_day), self.last_day)
        self.day = day
        self.daily = self.site.hospital.daily_list(self.admission["inpatient_no"], day)
        return self.daily

    def step(self, days: int):
        self.expect("list")
        d = dt.date.fromisoformat(self.day) + dt.timedelta(days=days)
        return self.show(d.isoformat())

    def print(self) -> list[str]:
        self.expect("list")
        out = self.site.documents(self.lang).daily_list(self.admission["inpatient_no"], self.day)
        self.print_problems = [] if out.ok else [out.user_message]
        return self.print_problems
