"""``onestop demo --autoplay DIR``: the demo plays itself on the simulated devices, with no person
at the screen: an admission check-in, a deposit top-up, a daily fee list and a discharge. Every
screen and every printed document is written into DIR as a PNG (for headless machines, the docs
and sales demos).

The script taps the real widgets with real touch events, as the tests do, while the app runs its
own event loop; it advances on a Clock tick and waits for each screen before acting. The ward's
part (bed, charges, discharge order, locking, scheduling) happens in the hospital's systems, not
at the kiosk, so the script does it through the domain service.

Pictures are named ``NN-<language>-<flow>-<step>.png`` and DIR gets an ``index.html`` that pages
through every picture in DIR (all languages played into it), grouped by language and flow, with
the arrow keys moving from one picture to the next. The script plays every flow in each language
of ``ONESTOP_AUTOPLAY_LANGUAGES`` (comma-separated; default ``zh-Hans,zh-Hant,en``), one demo
patient per language.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import shutil
import time
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch

log = logging.getLogger(__name__)

__all__ = ["Autoplay", "write_index"]

STEP_TIMEOUT_S = 60.0


class Autoplay:
    def __init__(self, app, out_dir: str | Path):
        self.app = app
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.n = 0
        self.failed: str | None = None
        self._script = self._run()
        self._waiting = None
        self._deadline = 0.0
        self._next_at = 0.0

    def start(self) -> None:
        Clock.schedule_interval(self._tick, 0.05)

    # -- the engine -----------------------------------------------------------------------
    def _tick(self, _dt):
        now = time.monotonic()
        if now < self._next_at:
            return True
        if self._waiting is not None:
            cond, what = self._waiting
            if not cond():
                if now > self._deadline:
                    self._fail(f"timed out waiting for {what}")
                    return False
                return True
            self._waiting = None
        try:
            step = next(self._script)
        except StopIteration:
            if type(self) is Autoplay:
                self._play_staff_fronts()
            write_index(self.out)
            log.info("autoplay finished: %d pictures in %s", self.n, self.out)
            self.app.stop()
            return False
        except Exception as exc:  # report the failing step and stop the demo with an error
            log.exception("autoplay step failed")
            self._fail(f"{type(exc).__name__}: {exc}")
            return False
        kind, value, what = step
        if kind == "until":
            self._waiting = (value, what)
            self._deadline = now + STEP_TIMEOUT_S
        elif kind == "sleep":
            self._next_at = now + value
        return True

    def _play_staff_fronts(self) -> None:
        """The counter and the diagnostics, each in a process of its own on this demo store
        (kiosk.autoplay_staff); ONESTOP_AUTOPLAY_STAFF=0 leaves them out."""
        import subprocess
        import sys

        if os.environ.get("ONESTOP_AUTOPLAY_STAFF", "1") == "0":
            return
        self.app.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        for front in ("counter", "diag"):
            r = subprocess.run([sys.executable, "-m", "kiosk.autoplay_staff", front, str(self.out), ",".join(self.langs),
                                "--size", "x".join(str(int(v)) for v in Window.size)],
                               capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                log.error("autoplay of the %s front end failed: %s", front, r.stderr[-2000:])
                self.failed = f"the {front} autoplay failed"

    def _fail(self, why: str) -> None:
        self.failed = why
        log.error("autoplay: %s (screen %s)", why, self.app.sm.current)
        self.app.stop()

    # -- actions --------------------------------------------------------------------------
    def tap(self, widget) -> None:
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        Clock.schedule_once(lambda _dt: touch.touch_up(), 0.05)

    def shot(self, name: str) -> None:
        self.n += 1
        target = self.out / f"{self.n:02d}-{self.app.lang}-{name}.png"
        produced = Window.screenshot(name=str(target))
        if produced and produced != str(target):
            shutil.move(produced, target)

    def collect_prints(self, label: str) -> None:
        world = self.app.demo_world
        for png in sorted(Path(world.printed).rglob("*.png"), key=lambda p: p.stat().st_mtime):
            if png.stat().st_mtime >= self._printed_since:
                self.n += 1
                shutil.copy(png, self.out / f"{self.n:02d}-{self.app.lang}-{label}-{png.parent.name}.png")
        self._printed_since = time.time()

    @staticmethod
    def until(cond, what):
        return ("until", cond, what)

    @staticmethod
    def sleep(seconds):
        return ("sleep", seconds, "")

    def on(self, name):
        sm = self.app.sm
        return self.until(lambda: sm.current == name and not sm.transition.is_active, f"the {name} screen")

    def screen(self):
        return self.app.sm.current_screen

    # -- the script -----------------------------------------------------------------------
    def _run(self):
        """Every flow once per language (ONESTOP_AUTOPLAY_LANGUAGES, default all three), each
        language with its own demo patient (each has an admission notice of their own)."""
        app = self.app
        self._printed_since = time.time()
        yield self.until(lambda: app.site_services is not None, "the store")
        wanted = os.environ.get("ONESTOP_AUTOPLAY_LANGUAGES", "zh-Hans,zh-Hant,en")
        langs = [lang for lang in wanted.split(",") if lang in _LANG_TITLES] or [app.lang]
        self.langs = langs
        for lang, card in zip(langs, (1, 2, 0)):
            app.set_language(lang)
            yield self.sleep(1.0)
            yield from self._play(card)

    def _card(self, card: int):
        return getattr(self.screen().ids, f"demo_card_{card}")

    def _play(self, card: int):
        app = self.app
        self.shot("home")
        # 1. admission check-in: 王喆 places her ID card
        self.tap(self.screen().ids.svc_admission)
        yield self.on("identify")
        self.shot("checkin-identify")
        self.tap(self._card(card))
        yield self.on("checkin_confirm")
        yield self.sleep(0.3)
        self.shot("checkin-confirm")
        self.tap(self.screen().ids.confirm)
        yield self.on("amount")
        self.tap(self.screen().ids.plus)
        yield self.sleep(0.3)
        self.shot("checkin-amount")
        self.tap(self.screen().ids.pay)
        yield self.on("pay")
        yield self.sleep(0.2)
        self.shot("checkin-paying")
        yield self.on("finish")
        yield self.sleep(0.5)
        self.shot("checkin-done")
        self.collect_prints("printed-checkin")
        inpatient_no, ward = app.flow.admission["inpatient_no"], app.flow.admission["ward_code"]
        self.tap(self.screen().ids.done)
        yield self.on("home")
        # 2. top-up by wristband scan (a keyboard-wedge burst)
        self.tap(self.screen().ids.svc_topup)
        yield self.on("identify")
        for ch in inpatient_no:
            Window.dispatch("on_textinput", ch)
        Window.dispatch("on_key_down", 13, 0, "\r", [])
        yield self.on("amount")
        yield self.sleep(0.3)
        self.shot("topup-amount")
        self.tap(self.screen().ids.pay)
        yield self.on("finish")
        yield self.sleep(0.5)
        self.shot("topup-done")
        self.collect_prints("printed-topup")
        self.tap(self.screen().ids.done)
        yield self.on("home")
        # the ward: bed, two days of charges, then the discharge order, review, lock and schedule
        h = app.site_services.hospital
        h.assign_bed(inpatient_no, h.free_beds(ward)[0])
        h.confirm_identity(inpatient_no, "护士长")
        today = dt.date.fromisoformat(h.today())
        for day in (today - dt.timedelta(days=1), today):
            for code, price in (("B001", 4500), ("N001", 2800), ("D205", 3350)):
                h.add_charge(inpatient_no, code, 1000, unit_price_fen=price, service_date=day.isoformat(),
                             department=ward)
        h.add_charge(inpatient_no, "I001", 1000, unit_price_fen=28000, service_date=today.isoformat(),
                     department=ward)
        # 3. the daily fee list
        self.tap(self.screen().ids.svc_daily_list)
        yield self.on("identify")
        self.tap(self._card(card))
        yield self.on("daily_list")
        yield self.sleep(0.3)
        self.shot("daily-list")
        self.tap(self.screen().ids.print_button)
        daily = self.screen()
        yield self.until(lambda: daily.message and daily.message != "Printing your documents...", "the printed list")
        self.collect_prints("printed-daily-list")
        self.tap(self.screen().ids.done)
        yield self.on("home")
        h.order_discharge(inpatient_no, summary="好转出院", ebill_no="EB-DEMO")
        h.lock_charges(inpatient_no, "护士长")
        h.schedule_discharge(inpatient_no, (today + dt.timedelta(days=1)).isoformat())
        # 4. discharge: settlement, refund of the surplus to the card, settlement list
        self.tap(self.screen().ids.svc_discharge)
        yield self.on("identify")
        self.tap(self._card(card))
        yield self.on("discharge_review")
        yield self.sleep(0.3)
        self.shot("discharge-review")
        self.tap(self.screen().ids.settle)
        yield self.on("finish")
        yield self.sleep(0.5)
        self.shot("discharge-done")
        self.collect_prints("printed-discharge")
        self.tap(self.screen().ids.done)
        yield self.on("home")


_NAME = re.compile(r"^(\d+)-(zh-Hans|zh-Hant|en)-(.+)\.png$")
_LANG_TITLES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}


def write_index(out: Path) -> Path:
    """``index.html``: every autoplay picture in ``out``, by language then in the order taken, each
    under its flow's heading; the arrow keys page from one picture to the next."""
    pics: dict[str, list[tuple[int, str, str]]] = {}
    for p in out.glob("*.png"):
        m = _NAME.match(p.name)
        if m:
            pics.setdefault(m.group(2), []).append((int(m.group(1)), m.group(3), p.name))
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>onestop autoplay</title>",
             "<style>body{font-family:sans-serif;margin:2em}figure{margin:1em 0 3em}img{max-width:100%;"
             "border:1px solid #ccc}figcaption{font-weight:bold;margin-bottom:.4em}</style></head><body>",
             "<h1>onestop autoplay</h1><nav>"]
    langs = [lang for lang in _LANG_TITLES if lang in pics]
    parts += [f"<a href='#{lang}'>{_LANG_TITLES[lang]}</a> " for lang in langs]
    parts.append("</nav>")
    k = 0
    for lang in langs:
        parts.append(f"<h2 id='{lang}'>{_LANG_TITLES[lang]}</h2>")
        flow = None
        for n, step, name in sorted(pics[lang]):
            head = step.split("-")[0] if not step.startswith("printed-") else step.split("-")[1]
            if head != flow:
                flow = head
                parts.append(f"<h3>{html.escape(flow)}</h3>")
            parts.append(f"<figure id='p{k}'><figcaption>{n:02d} {html.escape(step)}</figcaption>"
                         f"<img src='{html.escape(name)}' alt='{html.escape(step)}'></figure>")
            k += 1
    parts.append("<script>let i=0;const n=%d;document.addEventListener('keydown',e=>{if(e.key==='ArrowRight'||"
                 "e.key==='ArrowDown'){i=Math.min(n-1,i+1)}else if(e.key==='ArrowLeft'||e.key==='ArrowUp')"
                 "{i=Math.max(0,i-1)}else return;e.preventDefault();document.getElementById('p'+i)"
                 ".scrollIntoView()});</script></body></html>" % k)
    target = out / "index.html"
    target.write_text("\n".join(parts), encoding="utf-8")
    return target
