"""The club box: the one process that owns the club's store and routes role calls over MQTT.

With ``einvoice_url`` it also submits and polls the fapiao requests (:mod:`.einvoice`).

It takes devices' calls, acks, shift changes and catch-up requests from ``club/{site}/in/…``,
writes them to the store (the truth), and publishes each changed call row on its room's topic
(and runner calls on the shared runner offer topic). A timer advances overdue calls (sound
again, then to the manager). After a restart it carries on from the store: overdue calls are
advanced at once, and its new boot id on the retained ``box`` topic tells every device to catch
up. No Kivy here: the box runs headless.
"""

from __future__ import annotations

import logging
import threading

from pos.club.calls import ACTIVE_STATES, CallBook
from pos.club.einvoice import FapiaoRequests
from pos.club.errors import ClubError
from pos.club.ids import ulid
from pos.club.reservations import Reservations
from pos.club.wire import Topics
from sync.mqtt import Bus

__all__ = ["ClubBox"]

log = logging.getLogger(__name__)


class ClubBox:
    def __init__(self, store, site: str, broker_url: str, *, ack_timeout: float = 20.0, tick: float = 0.25,
                 message_expiry: int = 3600, client_id: str | None = None, tz: str = "Asia/Shanghai",
                 venue: str = "", einvoice_url: str = "", einvoice_interval: float = 2.0,
                 printers: dict[str, str] | None = None):
        self.store = store
        self.book = CallBook(store, ack_timeout=ack_timeout)
        self.reservations = Reservations(store, self.book, tz=tz, venue=venue)
        self.fapiao = FapiaoRequests(store)
        self.einvoice_url = einvoice_url
        self.einvoice_interval = einvoice_interval
        self._einvoice: threading.Thread | None = None
        self.topics = Topics(site)
        self.tick = tick
        self.expiry = message_expiry
        self.boot = ulid()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        t = self.topics
        self.bus = Bus(broker_url, client_id or f"box-{store.device_id}", on_message=self._message,
                       will=(t.box, {"state": "offline"}), online=(t.box, {"state": "online", "boot": self.boot}))
        self.bus.subscribe(t.inboxes)
        self.bus.subscribe(t.presence("+"))
        self._service(printers or {}, tz, venue)

    def _service(self, printers: dict[str, str], tz: str, venue: str) -> None:
        """Orders, station tickets and valet key tags (``printers``: kitchen_printer, bar_printer,
        valet_printer -> device URL). Tickets and tags print on a thread of their own."""
        from drivers.registry import open_device
        from pos.club.orders import Orders
        from pos.club.valet import Valet
        from pos.printing import PrintJournal

        self.journal = PrintJournal(self.store, devices=printers,
                                    opener=lambda url, _role: open_device(url, "receipt_printer"))
        self.orders = Orders(self.store, self.book, self.journal, venue=venue, tz=tz)
        self.valet = Valet(self.store, self.book, self.journal, venue=venue, tz=tz)
        self._print_kick = threading.Event()
        self._printer: threading.Thread | None = None
        self.on_printed = None                  # callback(outcomes), e.g. the order screen's refresh

    # -- life ---------------------------------------------------------------------------
    def start(self, wait: float | None = 10.0) -> "ClubBox":
        self.bus.start()
        if wait:
            self.bus.wait_connected(wait)
        self._timer = threading.Thread(target=self._run_timer, name="club-box-timer", daemon=True)
        self._timer.start()
        if self.einvoice_url:
            self._einvoice = threading.Thread(target=self._run_einvoice, name="club-box-einvoice", daemon=True)
            self._einvoice.start()
        self.journal.recover()                      # a job cut off by a crash is in doubt, never resent
        self._printer = threading.Thread(target=self._run_printer, name="club-box-printer", daemon=True)
        self._printer.start()
        return self

    def stop(self, clean: bool = True) -> None:
        self._stop.set()
        self._print_kick.set()
        for t in (self._timer, self._einvoice, self._printer):
            if t is not None:
                t.join(10)
        self.bus.stop(clean=clean)

    def _run_timer(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                for call in self.book.due() + self.reservations.tick():
                    self.publish_call(call)
            except Exception:                              # noqa: BLE001 - the timer must keep running
                log.exception("club box: escalation step failed")

    def _run_einvoice(self) -> None:
        """Submit and poll the fapiao requests (the store keeps them through any restart)."""
        from .einvoice import ProviderClient, run_once

        client = ProviderClient(self.einvoice_url, timeout=5.0)
        try:
            while not self._stop.wait(self.einvoice_interval):
                try:
                    for row in run_once(self.fapiao, client):
                        log.info("club box: fapiao %s for %s %s is %s", row["order_no"], row["purpose"], row["ref"],
                                 row["state"])
                except Exception:                          # noqa: BLE001 - keep polling
                    log.exception("club box: e-invoice pass failed")
        finally:
            client.close()

    def _run_printer(self) -> None:
        """Print every station ticket and key tag without a print job (after a fire, a void, a park
        or a restart). Faults stay in the journal: the order screen offers the retry or the copy."""
        first = True                                # at start: what a crash left unprinted
        while not self._stop.is_set():
            if not first:
                self._print_kick.wait()
            first = False
            self._print_kick.clear()
            if self._stop.is_set():
                return
            try:
                outs = self.orders.print_tickets() + self.valet.print_tags()
                if outs and self.on_printed is not None:
                    self.on_printed(outs)
            except Exception:                              # noqa: BLE001 - the printer thread must keep running
                log.exception("club box: printing tickets failed")

    def print_soon(self) -> None:
        self._print_kick.set()

    def publish_order(self, order_id: str) -> None:
        """The room's order as its butler's phone shows it (retained on ``club/{site}/order/{room}``)."""
        room = self.orders.order(order_id)["room"]
        self.bus.publish(f"{self.topics.base}/order/{room}", self.orders.view(room), retain=True)

    def add(self, order_id: str, dish: str, qty: int = 1, staff: str = "", note: str = "",
            request: str | None = None) -> str:
        line_id = self.orders.add(order_id, dish, qty, staff, note, request)
        self.publish_order(order_id)
        return line_id

    def fire(self, order_id: str, course: int, staff: str = "", request: str | None = None) -> list[str]:
        """Fire a course; its station tickets print on the printer thread."""
        made = self.orders.fire(order_id, course, staff, request)
        self.print_soon()
        self.publish_order(order_id)
        return made

    def void(self, line_id: str, qty: int | None = None, staff: str = "", reason: str = "") -> str:
        void_id = self.orders.void(line_id, qty, staff, reason)
        self.print_soon()
        self.publish_order(self.orders.lines_of(void_id))
        return void_id

    def course_ready(self, order_id: str, course: int, staff: str = "") -> list[dict]:
        """The kitchen says the course is ready: the "can serve" call goes to one runner."""
        calls = self.orders.ready(order_id, course, staff)
        for call in calls:
            self.publish_call(call)
        self.publish_order(order_id)
        return calls

    def park(self, res_id: str | None = None, room: str | None = None, plate: str = "", staff: str = "",
             request: str | None = None) -> str:
        tag_no = self.valet.park(res_id, room, plate, staff, request)
        self.print_soon()
        return tag_no

    # -- out ----------------------------------------------------------------------------
    def publish_call(self, call: dict) -> None:
        self.bus.publish(self.topics.room(call["room"]), call, expiry=self.expiry)
        if call["target_role"] == "runner" and call["state"] in ACTIVE_STATES:
            self.bus.publish(self.topics.offer("runner"), call, expiry=self.expiry)

    def raise_call(self, room: str, kind: str, from_role: str, **kw) -> list[dict]:
        """A call raised on the box itself (an arrival marked at the desk, a missed checklist)."""
        calls = self.book.raise_call(room, kind, from_role, **kw)
        for call in calls:
            self.publish_call(call)
        return calls

    def arrive(self, res_id: str, by_role: str = "security", device: str = "") -> list[dict]:
        """Guests arrived (marked at the gate or the desk): the calls go out."""
        calls = self.reservations.arrive(res_id, by_role, device)
        for call in calls:
            self.publish_call(call)
        return calls

    def _reply(self, device: str, body: dict, msg=None) -> None:
        topic = None
        props = getattr(msg, "properties", None)
        if props is not None and getattr(props, "ResponseTopic", None):
            topic = props.ResponseTopic
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        self.bus.publish(topic or self.topics.reply(device), body, expiry=self.expiry, correlation=corr)

    # -- in (paho's thread) -------------------------------------------------------------
    def _message(self, topic: str, body: dict, msg) -> None:
        t = self.topics
        device = t.tail(topic, "presence")
        if device is not None:
            if "state" in body:
                self.book.set_presence(device, "online" if body["state"] == "online" else "offline",
                                       body.get("role", ""), body.get("staff", ""))
            return
        what = t.tail(topic, "in")
        device = str(body.get("device", ""))
        try:
            if what == "call" and body.get("kind") == "car":        # "bring the car": the room's key tags
                calls = self.valet.request(str(body["room"]), body["from_role"], from_device=device,
                                           group_id=body["group_id"])
                for call in calls:
                    self.publish_call(call)
                if not calls:
                    self._reply(device, {"type": "calls", "calls": self.book.calls("group_id = ?", (body["group_id"],))}, msg)
            elif what == "call":
                calls = self.book.raise_call(body["room"], body["kind"], body["from_role"], from_device=device,
                                             to_roles=body.get("to_roles"), text=body.get("text", ""),
                                             detail=body.get("detail"), group_id=body["group_id"])
                if calls:
                    for call in calls:
                        self.publish_call(call)
                else:                                       # sent again: tell the sender it is stored
                    self._reply(device, {"type": "calls", "calls": self.book.calls("group_id = ?", (body["group_id"],))}, msg)
            elif what == "ack":
                call, changed = self.book.ack(body["call_id"], body["staff"], body["role"], device)
                if changed:
                    self.publish_call(call)
                else:
                    self._reply(device, {"type": "calls", "calls": [call]}, msg)
            elif what == "sync":
                answer = self.book.catch_up({str(k): int(v) for k, v in (body.get("known") or {}).items()})
                self._reply(device, {"type": "catchup", **answer}, msg)
            elif what == "tick":
                for call in self.reservations.tick_item(body["res_id"], body["item"], body["staff"]):
                    self.publish_call(call)
            elif what == "arrive":
                self.arrive(body["res_id"], body.get("role", "security"), device)
            elif what == "order":                                  # the butler's phone: a dish, or fire a course
                order_id = self.orders.open_order(str(body["room"]), body.get("staff", ""))
                if body.get("op") == "fire":
                    self.fire(order_id, int(body["course"]), body.get("staff", ""), body["request"])
                else:
                    self.add(order_id, str(body["dish"]), int(body.get("qty", 1)), body.get("staff", ""),
                             str(body.get("note", "")), body["request"])
            elif what == "valet":                                  # the valet's phone: park, or the QR at return
                if body.get("op") == "park":
                    self.park(body.get("res_id") or None, body.get("room") or None, body.get("plate", ""),
                              body.get("staff", ""), request=body.get("request") or None)
                else:
                    _tag, call = self.valet.returned(body["code"], body["staff"], device, body.get("request") or None)
                    if call is not None:
                        self.publish_call(call)
                self._reply(device, {"type": "valet", "ok": True, "op": body.get("op", "return")}, msg)
            elif what == "shift":
                if body.get("on", True):
                    self.book.start_shift(device, body["staff"], body["role"], body.get("rooms") or [])
                else:
                    self.book.end_shift(device)
            else:
                log.warning("club box: unknown inbox topic %s", topic)
        except ClubError as exc:
            log.warning("club box: refused %s from %s: %s", what, device, exc)
            self._reply(device, {"type": "refused", "what": what, "call_id": body.get("call_id", ""),
                                 "group_id": body.get("group_id", ""), "code": exc.code,
                                 "message": exc.user_message}, msg)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("club box: malformed %s from %s: %r", what, device, exc)


def main(argv=None) -> int:
    """``python -m kiosk.club.box --store PATH --site NAME --broker mqtt://127.0.0.1:1883``"""
    import argparse
    import signal

    from pos.club.store import open_club_store

    ap = argparse.ArgumentParser(prog="kiosk.club.box", description="the club box: routes role calls")
    ap.add_argument("--store", required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    ap.add_argument("--ack-timeout", type=float, default=20.0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = open_club_store(args.store)
    box = ClubBox(store, args.site, args.broker, ack_timeout=args.ack_timeout,
                  client_id=f"box-{args.site}").start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"club box {box.boot} up", flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    box.stop()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
