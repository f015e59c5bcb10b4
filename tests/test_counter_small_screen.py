"""Every counter screen at 800x480 (the small Pi touch screen), in the three languages: no
tofu, the main action reachable, and a screenshot of each for people to look at."""

from __future__ import annotations

from kiosk.counter.base import desk

from .counter_support import counter_bench, prepare_discharge, shots  # noqa: F401


def test_every_counter_screen_at_800x480(counter_bench, artifacts):
    ui = counter_bench.start(language="zh-Hans", size=(800, 480))
    d = desk()
    no = prepare_discharge(d, 1)
    d.site.cash.open_shift(d.cashier, 0)
    shots(ui, artifacts, "small-counter-home")
    for name, params, ready in [
            ("counter_patient", {"inpatient_no": no}, lambda s: s.info),
            ("counter_register", {}, lambda s: hasattr(s, "fields")),
            ("counter_deposit", {"inpatient_no": no}, lambda s: s.patient),
            ("counter_discharge", {"inpatient_no": no}, lambda s: s.stage == "presettle"),
            ("counter_indoubt", {}, lambda s: s.message),
            ("counter_reprints", {}, lambda s: s.message or getattr(s, "jobs", None)),
            ("counter_green", {}, lambda s: s.message or getattr(s, "items", None)),
            ("counter_shift", {}, lambda s: s.status)]:
        ui.app.go(name, **params)
        ui.settle()
        scr = ui.screen()
        ui.wait(lambda: ready(scr), what=name)
        for w in scr.walk():
            if any(p.__class__.__name__ == "ScrollView" for p in parents(w)):
                continue                                  # reachable by scrolling
            if getattr(w, "text", None) and w.__class__.__name__ in ("OButton", "SecondaryButton") and w.opacity:
                x, y = w.to_window(w.x, w.y)
                assert 0 <= x and x + w.width <= 801 and 0 <= y and y + w.height <= 481, (name, w.text, x, y)
        shots(ui, artifacts, f"small-{name}")


def parents(w):
    seen = set()
    while w.parent is not None and id(w.parent) not in seen and w.parent is not w:
        seen.add(id(w.parent))
        w = w.parent
        yield w
