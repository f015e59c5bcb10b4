"""The repair desk's page on the IT site (``Pack.pages``): the booked visits, per technician."""

from __future__ import annotations

from pos.packs import PageResponse

_WORDS = {"en": "Booked visits", "zh-Hans": "已预约的上门", "zh-Hant": "已預約的上門"}


def bookings(page) -> PageResponse:
    tech = page.params.get("technician") or page.query.get("technician", "")
    with page.backend.tx() as cur:
        rows = cur.execute("SELECT visit_no, technician FROM techdesk_bookings WHERE technician = ? OR ? = '' "
                           "ORDER BY visit_no", (tech, tech)).fetchall()
    return PageResponse(page.render("techdesk_bookings.html", heading=_WORDS[page.lang], rows=rows,
                                    here=page.url("bookings")))
