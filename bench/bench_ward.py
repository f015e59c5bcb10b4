"""Bench: the ward station (``onestop ward``) on a 60-bed ward, each figure against its baseline in
the same run.

* **Bed board opens**: ``Wards.bed_board`` (rows, days in, each patient's daily list for the
  balance and the low-balance flag, the ID check, the bed marks, refused claims), against the bare
  SQL statements it runs: each ``execute`` (SQL and parameters) is recorded on one call, then
  replayed with ``fetchall`` and nothing else. The ratio is what the Python around the SQL costs.
* **Refresh after a pull of 1,000 events**: 1,000 pulled events (beds of other wards changing, bed
  marks, charge lines, daily lists given, discharge requests) stored and applied through the
  pack's projections in one transaction, as ``SyncClient.pull_once`` does with a page (the HTTP
  request itself is the sync bench's subject), then the board again; against the replay of the
  statements that pull and board ran.
* **Batch print of the 60 daily lists** (``DocumentPrinter.ward_daily_lists``: each list built,
  rendered to ESC/POS, journalled, sent to the virtual printer over loopback TCP, recorded as
  given), against the time a 115200-baud serial printer link (8N1) needs for the same bytes.

Usage: ``.venv/bin/python bench/bench_ward.py [--beds 60] [--days 3] [--events 1000] [--no-write]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_section  # noqa: E402

SERIAL_BPS = 115200 / 10          # bytes per second, 8N1
WARD = "BIG"


def build(folder: Path, beds: int, days: int):
    """A store with one ward of ``beds`` beds, all but two occupied, ``days`` days of charges each."""
    from pos.hospital import demo
    from pos.hospital.records import IdentityRecord, Payment
    from pos.hospital.service import HospitalService
    from pos.store import Store

    store = Store(folder / "ward.sqlite", device_id="WBNCH")
    svc = HospitalService(store, low_balance_fen=50000)
    for code, name, spec, unit, cat, _price in demo.FEES:
        svc.add_fee_item(code, name, cat, spec, unit)
    prices = {code: price for code, _n, _s, _u, _c, price in demo.FEES}
    svc.add_ward(WARD, "心内科", 5, beds=[f"{i:02d}" for i in range(1, beds + 1)])
    start = dt.date.fromisoformat(svc.today()) - dt.timedelta(days=days - 1)
    for i in range(beds - 2):
        idno = f"11010119800101{i:04d}"
        n = svc.record_notice(patient_name=f"病人{i:02d}", id_number=idno, ward_code=WARD, suggested_deposit_fen=100000)
        no = svc.register_admission(n["notice_no"], IdentityRecord("counter", f"病人{i:02d}", idno,
                                                                   scheme="self_pay"))["inpatient_no"]
        svc.record_deposit(no, Payment(20000 if i % 5 == 0 else 300000))      # every fifth one low
        svc.print_wristband(no)
        svc.assign_bed(no, f"{i + 1:02d}")
        svc.confirm_identity(no, "N07")
        for d in range(days):
            day = (start + dt.timedelta(days=d)).isoformat()
            for code, qty in (("B001", 1000), ("N001", 1000), ("D101", 1000), ("D205", 2000)):
                svc.add_charge(no, code, qty, unit_price_fen=prices[code], service_date=day, department=WARD)
    return store, svc


def events(svc, n: int, first_seq: int) -> list[tuple[int, str, dict]]:
    """``n`` pulled events of the kinds a station sees during a shift."""
    nos = [r[0] for r in svc.conn.execute("SELECT inpatient_no FROM hosp_admissions ORDER BY id")]
    at = svc.now()
    out = []
    for i in range(n):
        seq, k = first_seq + i, i % 5
        if k == 0:
            out.append((seq, "bed.changed", {"bed_id": f"OTHER/{i % 40:02d}", "inpatient_no": f"KX-{i:06d}",
                                             "state": "occupied" if i % 2 else "free", "at": at}))
        elif k == 1:
            out.append((seq, "bed.marked", {"ward_code": "OTHER", "bed_no": f"{i % 40:02d}", "bed_id": f"OTHER/{i % 40:02d}",
                                            "mark": "cleaning", "inpatient_no": None, "staff": "N09", "at": at}))
        elif k == 2:
            out.append((seq, "charge.line", {"inpatient_no": nos[i % len(nos)], "charge_ref": f"KX-C{i:06d}",
                                             "amount_fen": 4500}))
        elif k == 3:
            out.append((seq, "daily_list.printed", {"inpatient_no": nos[i % len(nos)], "day": svc.today(),
                                                    "total_fen": 9000, "as_of": at}))
        else:
            out.append((seq, "discharge.requested", {"inpatient_no": f"KX-{i:06d}", "ward_code": "OTHER",
                                                     "wanted_for": None, "at": at}))
    return out


def pull(store, projections, page) -> None:
    """What ``SyncClient.pull_once`` does with a page it received."""
    with store.transaction() as tx:
        for seq, kind, payload in page:
            tx.execute("INSERT OR IGNORE INTO sync_events (seq, kind, payload, server_time) VALUES (?, ?, ?, ?)",
                       (seq, kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), payload.get("at") or ""))
            projections.apply(tx, kind, payload, seq)


class _Recorder:
    """The store's connection, recording each ``execute`` (SQL and parameters) while ``log`` is a list."""

    def __init__(self, conn):
        self._conn, self.log = conn, None

    def execute(self, sql, params=()):
        if self.log is not None:
            self.log.append((sql, params))
        return self._conn.execute(sql, params)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def traced(store, fn) -> list[tuple[str, tuple]]:
    """The SQL statements (with their parameters) that ``fn()`` runs on the store's connection."""
    raw = store.conn                                  # this thread's connection (pos.store keeps one per thread)
    rec = store._local.conn = _Recorder(raw)
    rec.log = []
    try:
        fn()
    finally:
        store._local.conn = raw
    return [(sql, p) for sql, p in rec.log if sql.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
                                                                               "RELEASE", "PRAGMA")]


def replay(conn, stmts) -> None:
    for sql, params in stmts:
        conn.execute(sql, params).fetchall()


def fresh(stmts, base: int):
    """The recorded statements with the events' ``seq`` moved to ``base`` onwards (new log rows)."""
    out, first = [], None
    for sql, p in stmts:
        if sql.startswith("INSERT OR IGNORE INTO sync_events"):
            first = p[0] if first is None else first
            p = (p[0] - first + base, *p[1:])
        out.append((sql, p))
    return out


def median_of(fn, n: int) -> float:
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--beds", type=int, default=60)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    from drivers.sim.printer import VirtualPrinter
    from kiosk.launch import demo_config_path
    from pos.config import load_config
    from pos.site import Site
    from sync.client import Projections

    with tempfile.TemporaryDirectory(prefix="bench-ward-") as d:
        folder = Path(d)
        store, svc = build(folder, args.beds, args.days)
        conn = store.conn
        board = svc.bed_board(WARD)
        occupied = sum(1 for c in board if c["state"] == "occupied")
        stmts = traced(store, lambda: svc.bed_board(WARD))
        ui_t, bare_t = [], []
        for _ in range(args.rounds):                      # interleaved, so a busy moment falls on both
            ui_t.append(median_of(lambda: svc.bed_board(WARD), 1))
            bare_t.append(median_of(lambda: replay(conn, stmts), 1))
        open_ui, open_bare = statistics.median(ui_t), statistics.median(bare_t)

        projections = Projections()
        seq = (conn.execute("SELECT coalesce(max(seq), 0) FROM sync_events").fetchone()[0] or 0) + 1
        # the statements of one pull and refresh, recorded on a page of their own (not timed)
        pull_stmts = traced(store, lambda: (pull(store, projections, events(svc, args.events, seq)),
                                            svc.bed_board(WARD)))
        seq += args.events
        pull_ui, pull_bare = [], []
        for _ in range(args.rounds):
            page = events(svc, args.events, seq)
            seq += args.events
            t0 = time.perf_counter()
            pull(store, projections, page)
            svc.bed_board(WARD)
            pull_ui.append(time.perf_counter() - t0)
            bare = fresh(pull_stmts, seq)                  # the replay stores its events as new rows too
            seq += args.events
            t0 = time.perf_counter()
            with store.transaction():
                replay(conn, bare)
            pull_bare.append(time.perf_counter() - t0)
        refresh_ui, refresh_bare = statistics.median(pull_ui), statistics.median(pull_bare)

        config = load_config(demo_config_path())
        with VirtualPrinter() as printer:
            config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{printer.port}?profile=cn80"}
            site = Site(config, store)
            site._built["hospital"] = svc                  # the service above, with its store and clock
            docs = site.documents("zh-Hans")
            docs.ward_daily_lists(WARD)                    # warm-up: fonts, codecs, the connection path
            t0 = time.perf_counter()
            out = docs.ward_daily_lists(WARD)
            batch_s = time.perf_counter() - t0
            nbytes = sum(r[0] for r in conn.execute(
                "SELECT nbytes FROM print_jobs WHERE kind = 'daily_fee_list' ORDER BY created_at DESC LIMIT ?",
                (len(out),)))
        ok = sum(1 for _no, _low, o in out if o.ok)
        low = sum(1 for _no, lo, _o in out if lo)
        store.close()
    link_s = nbytes / SERIAL_BPS
    md = f"""## Ward station (`bench/bench_ward.py`)

One ward of {args.beds} beds, {occupied} occupied, {args.days} days of charges per patient (every fifth one
low on deposit), SQLite. Bare = the same SQL statements the operation ran, with the same
parameters (recorded on the store's connection), replayed with `fetchall` and nothing else; medians of
{args.rounds} rounds, the two interleaved.

| operation | onestop | bare statements | ratio |
|---|---:|---:|---:|
| bed board opens (`bed_board`, {len(stmts)} statements) | {open_ui * 1000:.1f} ms | {open_bare * 1000:.1f} ms | **{open_ui / open_bare:.2f}×** |
| pull of {args.events:,} events (stored, projected) + board refresh | {refresh_ui * 1000:.1f} ms | {refresh_bare * 1000:.1f} ms | **{refresh_ui / refresh_bare:.2f}×** |

The pull is timed from the page in hand (what `SyncClient.pull_once` does once the response has
arrived: store each event, apply the pack's projections, one transaction); the HTTP request is the
sync bench's subject. The board reads each occupied bed's daily list for the balance, so its
statements grow with the occupied beds, not with the events pulled.

**Batch print of the daily lists** (`DocumentPrinter.ward_daily_lists`, cn80 text mode, the virtual
printer over loopback TCP, after one warm-up batch): {ok} of {len(out)} lists on paper ({low} low balance,
first), {nbytes:,} bytes in {batch_s:.2f} s. The same bytes need **{link_s:.1f} s** on a 115200-baud
serial link: the batch takes **{batch_s / link_s:.2f}×** the link time, so on a serial printer the link,
not onestop, sets the pace."""
    if args.no_write:
        print(md)
    else:
        write_section("ward", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
