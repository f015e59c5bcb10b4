"""Bench: a role call from its publish to the screen model, on a real Mosquitto with 50 devices.

One run, one machine, loopback broker (127.0.0.1:1883, ``--broker``):

* **baseline**: a bare paho-mqtt publish → subscribe round trip: one publisher, 50 subscribers
  on one topic, MQTT 5, QoS 1, the same message body as a call row and the same bursts (an
  arrival is three calls published together), the time from ``publish()`` to each subscriber's
  ``on_message``;
* **club**: the club box and 50 role devices (:class:`kiosk.club.device.ClubDevice`: persistent
  sessions, wills, the room stream, shared runner offers), the time from the box's publish of a
  call to each device's board (the screen model) having applied it. Also reported: from the
  start of ``raise_call`` (the store's ``BEGIN IMMEDIATE`` … ``COMMIT`` with ``synchronous=FULL``
  first) to the board.

Rounds alternate (baseline, club, baseline, club …) so load on the machine falls on both alike.
Goal: club p95 < 1 s and within 1.5× of the baseline's p95.

Usage: ``.venv/bin/python bench/bench_club_calls.py [--devices 50] [--calls 20] [--rounds 3] [--no-write]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402

from bench.common import write_section  # noqa: E402
from kiosk.club.box import ClubBox  # noqa: E402
from kiosk.club.device import ClubDevice  # noqa: E402
from pos.club.ids import ulid  # noqa: E402
from pos.club.store import open_club_store  # noqa: E402
from pos.club.wire import encode  # noqa: E402

ROLES = ["greeter"] * 10 + ["butler"] * 10 + ["sommelier"] * 10 + ["runner"] * 10 + ["cashier"] * 5 + ["manager"] * 5


KINDS = ["arrival", "can_serve", "wine", "pay", "help"]
BURST = [3, 1, 1, 1, 1]            # an arrival is three calls (greeter, butler, sommelier), published together


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def wait(pred, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    raise TimeoutError("bench: timed out")


class Bare:
    def __init__(self, host, port, n, body: bytes):
        self.topic = f"bench/{ulid()}/t"
        self.body = body
        self.got: dict[int, list[float]] = {}
        self.counter = 0
        self.lock = threading.Lock()
        self.subs = []
        for i in range(n):
            c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"bare-{ulid()}",
                            protocol=mqtt.MQTTv5)
            c.on_message = self._on_message
            c.connect(host, port, clean_start=True)
            c.loop_start()
            wait(c.is_connected)
            c.subscribe(self.topic, qos=1)
            self.subs.append(c)
        self.pub = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"bare-pub-{ulid()}",
                               protocol=mqtt.MQTTv5)
        self.pub.connect(host, port, clean_start=True)
        self.pub.loop_start()
        wait(self.pub.is_connected)
        time.sleep(0.5)                                   # subscriptions settle

    def _on_message(self, _c, _u, msg):
        now = time.perf_counter()
        k = int(msg.payload[:8].decode())
        with self.lock:
            self.got.setdefault(k, []).append(now)

    def round(self, calls, gap):
        lat, sent = [], {}
        for i in range(calls):
            for _ in range(BURST[i % len(KINDS)]):       # the same messages, in the same bursts, as the club's
                self.counter += 1
                k = self.counter
                sent[k] = time.perf_counter()
                self.pub.publish(self.topic, f"{k:08d}".encode() + self.body, qos=1)
            time.sleep(gap)
        wait(lambda: all(len(self.got.get(k, [])) == len(self.subs) for k in sent))
        for k, t0 in sent.items():
            lat += [t - t0 for t in self.got[k]]
        return lat

    def close(self):
        for c in self.subs + [self.pub]:
            c.disconnect()
            c.loop_stop()


class Club:
    def __init__(self, url, n, tmp):
        self.site = "bench" + ulid().lower()
        self.store = open_club_store(Path(tmp) / "box.sqlite")
        self.box = ClubBox(self.store, self.site, url, ack_timeout=600, tick=1.0).start()
        self.seen: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.devices = []
        for i in range(n):
            role = ROLES[i % len(ROLES)]
            d = ClubDevice(self.site, url, f"{self.site}-{i}", role, f"staff{i}", [str(i % 12 + 1)] if role == "butler" else None)
            orig = d._message

            def hook(topic, body, msg, orig=orig):
                orig(topic, body, msg)                    # the board has applied it
                if "/room/" in topic:
                    now = time.perf_counter()
                    with self.lock:
                        self.seen.setdefault(body["call_id"], []).append(now)
            d.bus.on_message = hook
            d.start()
            self.devices.append(d)
        wait(lambda: all(d.bus.connected.is_set() for d in self.devices))
        wait(lambda: len(self.store.conn.execute("SELECT 1 FROM club_shifts WHERE ended_at IS NULL").fetchall()) == n)
        time.sleep(0.5)

    def round(self, calls, gap):
        pub_lat, total_lat = [], []
        marks = {}
        orig = self.box.publish_call
        for i in range(calls):
            t_raise = time.perf_counter()
            pubs = []

            def timed(call, pubs=pubs):
                pubs.append((call["call_id"], time.perf_counter()))
                orig(call)
            self.box.publish_call = timed
            self.box.raise_call(str(i % 12 + 1), KINDS[i % len(KINDS)], "butler")
            self.box.publish_call = orig
            for call_id, t_pub in pubs:
                marks[call_id] = (t_raise, t_pub)
            time.sleep(gap)
        n = len(self.devices)
        wait(lambda: all(len(self.seen.get(c, [])) == n for c in marks))
        for c, (t_raise, t_pub) in marks.items():
            pub_lat += [t - t_pub for t in self.seen[c]]
            total_lat += [t - t_raise for t in self.seen[c]]
        return pub_lat, total_lat

    def close(self):
        for d in self.devices:
            d.stop()
        self.box.stop()
        self.store.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gap", type=float, default=0.05)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    host, port = args.broker.split("://")[1].split(":")
    with tempfile.TemporaryDirectory() as tmp:
        club = Club(args.broker, args.devices, tmp)
        sample = club.box.book.raise_call("99", "arrival", "security", to_roles=["greeter"],
                                          detail={"guests": 6, "greeting": "Good evening, {title}."})[0]
        bare = Bare(host, int(port), args.devices, encode(sample))
        b_lat, c_pub, c_total = [], [], []
        try:
            for _ in range(args.rounds):
                b_lat += bare.round(args.calls, args.gap)
                p, t = club.round(args.calls, args.gap)
                c_pub += p
                c_total += t
        finally:
            bare.close()
            club.close()
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    rows = [("bare paho publish → on_message (baseline)", b_lat), ("club: box publish → device board", c_pub),
            ("club: raise_call (store commit) → device board", c_total)]
    ratio50 = statistics.median(c_pub) / statistics.median(b_lat)
    ratio95 = pct(c_pub, 95) / pct(b_lat, 95)
    lines = ["## Club role calls: publish to the screen model (issue 18)", "",
             f"Real Mosquitto on loopback, {args.devices} devices (10 greeters, 10 butlers, 10 sommeliers, "
             f"10 runners, 5 cashiers, 5 managers), MQTT 5 QoS 1, {args.rounds} alternating rounds of "
             f"{args.calls} calls {args.gap * 1000:.0f} ms apart; every device applies every room event "
             f"to its board. Baseline: a bare paho publish → subscribe round trip to the same number of "
             f"subscribers with the same body, in the same run.", "",
             "| path | deliveries | p50 | p95 | max |", "|---|---:|---:|---:|---:|"]
    for name, xs in rows:
        lines.append(f"| {name} | {len(xs):,} | {ms(statistics.median(xs))} | {ms(pct(xs, 95))} | {ms(max(xs))} |")
    met = pct(c_pub, 95) < 1.0 and ratio95 <= 1.5
    lines += ["", f"Club / bare: p50 **{ratio50:.2f}×**, p95 **{ratio95:.2f}×** (goal: p95 < 1 s and ≤ 1.5×): "
              f"{'met' if met else 'not met'}."]
    text = "\n".join(lines)
    if args.no_write:
        print(text)
    else:
        write_section("club_calls", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
