"""``onestop ward``: the bedside discharge (床邊辦理, H-D7) on the ward tablet. The nurse flags the
patient unable to move and opens the bedside session; the cashier's counter joins it through sync
(``pos.hospital.bedside``); once the join is here, the cashier settles at the bed on this tablet:
the settlement is marked bedside with the session, the shortfall is collected or the surplus paid
back in cash, and the receipt and the settlement list print on the ward printer (this device's
receipt printer). Printing and the platform calls run off the UI thread."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

log = logging.getLogger(__name__)

__all__ = ["SCREEN", "KV", "WardBedsideScreen"]


def _(msgid: str) -> str:
    return msgid


TEXTS = (_("Bedside discharge"), _("{name} ({no}), bed {bed}"), _("Unable to move: flagged by {staff}."),
         _("Not flagged as unable to move."), _("Bedside session open; waiting for a cashier to join."),
         _("Cashier {cashier} joined the bedside session."), _("Settled at the bed: {no}."),
         _("Collect {amount} in cash at the bed."), _("Pay back {amount} in cash at the bed."),
         _("Nothing to collect or pay back."), _("Only nurses flag a patient or open a bedside discharge."),
         _("The patient is flagged as unable to move."), _("Bedside discharge opened. The counter sees it after sync."),
         _("Printing on the ward printer..."),
         _("Discharged at the bed. The receipt and the settlement list are printed on the ward printer."),
         _("Settled, but the printer failed: {reason} Check the ward printer and print again."),
         _("Reason (e.g. after surgery, no carer)"), _("Unable to move"), _("Open bedside discharge"),
         _("Check for the cashier"), _("Settle at the bed"), _("Collect, print and discharge"), _("Back to the stay"))


def _kv() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("kv", "ward", "ward_bedside.kv").read_text(encoding="utf-8")


KV = _kv()


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


class WardBedsideScreen(Screen):
    info = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.inpatient_no: str | None = None
        self.settled: dict | None = None
        self._said = None
        App.get_running_app().bind(lang=lambda *_: self.show())

    @property
    def hospital(self):
        return App.get_running_app().site_services.hospital

    def prepare(self, inpatient_no: str) -> None:
        self.inpatient_no, self.settled, self._said = inpatient_no, None, None
        self.message = ""
        self.ids.reason.text = ""

    def on_pre_enter(self, *_):
        self.show()

    def reset(self) -> None:
        self.inpatient_no, self.settled, self._said = None, None, None
        self.message = ""

    def say(self, msgid: str, **kw) -> None:
        self._said = (msgid, kw)
        self.message = App.get_running_app().t(msgid, **kw)

    def staff(self):
        board = App.get_running_app().screen("ward_board")
        return board.staff, board.role

    def show(self) -> None:
        app = App.get_running_app()
        if self.inpatient_no is None or getattr(app, "site_services", None) is None:
            return
        from pos.hospital import views

        h = self.hospital
        page = views.admission_page(h.conn, h.admission(self.inpatient_no))
        lines = [app.t("{name} ({no}), bed {bed}", name=page["name"], no=self.inpatient_no, bed=page["bed"])]
        flag = h.immobile(self.inpatient_no)
        lines.append(app.t("Unable to move: flagged by {staff}.", staff=flag["nurse"]) if flag.get("unable")
                     else app.t("Not flagged as unable to move."))
        s = h.bedside.session(self.inpatient_no)
        if s and s["state"] == "opened":
            lines.append(app.t("Bedside session open; waiting for a cashier to join."))
        elif s and s["state"] == "joined":
            lines.append(app.t("Cashier {cashier} joined the bedside session.", cashier=s["cashier"]))
        if self.settled:
            st = self.settled
            lines.append(app.t("Settled at the bed: {no}.", no=st["settlement_no"]))
            if st["collect_due_fen"]:
                lines.append(app.t("Collect {amount} in cash at the bed.", amount=yuan(st["collect_due_fen"])))
            elif st["refund_due_fen"]:
                lines.append(app.t("Pay back {amount} in cash at the bed.", amount=yuan(st["refund_due_fen"])))
            else:
                lines.append(app.t("Nothing to collect or pay back."))
        self.info = "\n".join(lines)
        if self._said:
            self.message = app.t(self._said[0], **self._said[1])

    def _nurse(self) -> str | None:
        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses flag a patient or open a bedside discharge.")
            return None
        return staff

    def _refused(self, exc) -> None:
        log.warning("ward: bedside step refused for %s: %s", self.inpatient_no, exc)
        self.say(exc.user_message)
        self.show()

    def flag(self) -> None:
        from pos.hospital.errors import HospitalError

        if (staff := self._nurse()) is None:
            return
        try:
            self.hospital.flag_immobile(self.inpatient_no, staff, reason=self.ids.reason.text)
        except HospitalError as exc:
            return self._refused(exc)
        log.info("ward: %s flagged %s unable to move", staff, self.inpatient_no)
        self.say("The patient is flagged as unable to move.")
        self.show()

    def open_session(self) -> None:
        from pos.hospital.errors import HospitalError

        if (staff := self._nurse()) is None:
            return
        try:
            s = self.hospital.open_bedside(self.inpatient_no, staff)
        except HospitalError as exc:
            return self._refused(exc)
        log.info("ward: %s opened bedside session %s for %s", staff, s["session_id"], self.inpatient_no)
        self.say("Bedside discharge opened. The counter sees it after sync.")
        self.show()

    def check(self) -> None:
        self._said = None
        self.message = ""
        self.show()

    def settle(self) -> None:
        """The platform's settlement, off the UI thread; refused until a cashier joined."""
        from pos.hospital.errors import HospitalError

        app = App.get_running_app()
        if self.busy:
            return
        no = self.inpatient_no
        self.busy = True

        def done(st):
            self.busy = False
            self.settled = st
            log.info("ward: bedside settlement %s of %s in session %s (cashier %s)", st["settlement_no"], no,
                     st["session_id"], st["cashier"])
            self._said = None
            self.message = ""
            self.show()

        def failed(exc):
            self.busy = False
            if isinstance(exc, HospitalError):
                return self._refused(exc)
            log.error("ward: bedside settlement of %s: %s", no, exc)
            self.say("Some information is missing or not valid. Please check it.")

        app.with_store(lambda _s: self.hospital.settle_bedside(no), done, failed)

    def finish(self) -> None:
        """Collect or pay back in cash, print the receipt and the list on the ward printer, discharge."""
        from pos.hospital.errors import HospitalError

        app = App.get_running_app()
        if self.busy or not self.settled:
            return
        st, no = self.settled, self.inpatient_no
        lang = "zh-Hant" if app.lang == "zh-Hant" else "zh-Hans"
        self.busy = True
        self.say("Printing on the ward printer...")
        hold = app.hold_idle()

        def work(_store):
            from pos.hospital.records import Payment

            h, docs = self.hospital, app.site_services.documents(lang)
            outcomes = []
            if st["collect_due_fen"]:
                c = h.collect(no, Payment(st["collect_due_fen"], "cash"))
                outcomes.append(docs.deposit_receipt(c["receipt_no"], st["cashier"]))
            elif st["refund_due_fen"]:
                h.refund(no, st["refund_due_fen"], "cash")
            outcomes.append(docs.settlement(no, st["cashier"]))
            h.discharge(no)
            return outcomes

        def done(outcomes):
            app.release_idle(hold)
            self.busy = False
            bad = [o for o in outcomes if not o.ok]
            if bad:
                log.error("ward: bedside print of %s failed: %s", no, bad[0].technician)
                self.say("Settled, but the printer failed: {reason} Check the ward printer and print again.",
                         reason=app.t(bad[0].message))
            else:
                log.info("ward: %s discharged at the bed", no)
                self.say("Discharged at the bed. The receipt and the settlement list are printed on the ward printer.")
            self.settled = None
            self.show()

        def failed(exc):
            app.release_idle(hold)
            self.busy = False
            if isinstance(exc, HospitalError):
                return self._refused(exc)
            log.error("ward: bedside discharge of %s: %s", no, exc)
            self.say("Some information is missing or not valid. Please check it.")

        app.with_store(work, done, failed)


SCREEN = WardBedsideScreen
