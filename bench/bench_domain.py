"""Bench: the daily fee list and the settlement over a year of a 1,000-bed hospital.

Builds a store with about ``--lines`` charge lines (default 5,000,000: 1,000 beds × 365 days ×
~14 lines per occupied bed-day) with plain ``executemany`` in one transaction, then times, in the
same run and on the same store:

* ``daily_list`` (the domain call) against the day's items query alone (the baseline) and against
  its one statement run bare (``DAILY_SQL``: the admission, the day's items, the running total, the
  ledger sums and the open green items in one read);
* ``pre_settle`` (the platform-model settlement from the policy tables, line by line) against the
  bare SQL (admission lookup, the stay's lines with their catalogue caps, ledger sums);
* a full ``settle`` through the simulated platform (two durable transactions, fsync-bound), for
  information.

Usage: ``.venv/bin/python bench/bench_domain.py [--lines N] [--path FILE] [--keep] [--no-write]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_section  # noqa: E402
from pos.hospital.daily import DAILY_SQL, ITEMS_SQL, day_end_utc  # noqa: E402
from pos.hospital.discharge import LINES_SQL, SETTLE_LOOKUP_SQL  # noqa: E402
from pos.hospital.gateway import PersonInfo  # noqa: E402
from pos.hospital.ledger import LEDGER_SQL  # noqa: E402
from pos.hospital.gateway_sim import SimGateway  # noqa: E402
from pos.hospital.policy import load_policy  # noqa: E402
from pos.hospital.service import HospitalService  # noqa: E402
from pos.store import Store  # noqa: E402

BEDS, WARDS, DAYS = 1000, 25, 365
START = dt.date(2025, 1, 1)
SCHEMES = ("employee", "resident", "rural", "self_pay")


def build(path: Path, lines: int, seed: int = 7, beds: int = BEDS) -> dict:
    rng = random.Random(seed)
    store = Store(path, device_id="KBNCH")
    conn = store.conn
    conn.execute("PRAGMA cache_size = -1000000")     # 1 GB page cache: the bulk load does not spill
    t0, c0 = time.perf_counter(), time.process_time()
    now = "2025-12-31T00:00:00.000000Z"
    fees = [(f"F{i:04d}", f"項目{i}", f"規格{i % 7}", "次", "甲乙丙"[i % 3]) for i in range(400)]
    prices = [rng.randint(100, 60000) for _ in fees]
    per_bed = max(1, beds // WARDS)
    wards = (beds + per_bed - 1) // per_bed
    adm_rows, pat_rows, notice_rows, ident_rows, ledger_rows, stays = [], [], [], [], [], []
    aid = 0
    for bed in range(beds):                          # one timeline of stays per bed
        day = rng.randint(0, 2)
        while day < DAYS:
            stay = rng.randint(3, 14)
            aid += 1
            ward = f"W{bed // per_bed:02d}"
            idno = f"ID{aid:016d}"
            at = (START + dt.timedelta(days=day)).isoformat() + "T02:00:00.000000Z"
            pat_rows.append((aid, f"P-{aid}", f"病人{aid}", "M", "1970-01-01", now))
            ident_rows.append((aid, aid, "cn_id", idno, "", SCHEMES[aid % 4], f"M{aid}", now))
            notice_rows.append((aid, f"N-{aid}", "his", f"病人{aid}", idno, ward, 300000, now, "used"))
            adm_rows.append((aid, f"A-{aid}", f"ZYKBNCH-{aid:06d}", aid, aid, ward, bed + 1, SCHEMES[aid % 4],
                             aid, "identity_confirmed" if day + stay >= DAYS else "discharged", at))
            ledger_rows.append((aid, f"KBNCH-L{aid}", "deposit", rng.randint(1000, 20000) * 100, "cash", at))
            stays.append((aid, ward, day, min(day + stay, DAYS)))
            day += stay + rng.randint(0, 1)
    bed_days = sum(e - b for _a, _w, b, e in stays)
    mean = lines / bed_days
    dates = [(START + dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    codes = [f[0] for f in fees]
    cats = [f[4] for f in fees]
    qtys = (1000, 1000, 2000, 500, 3000)

    # pre-drawn random tables, walked with a co-prime stride: no RNG call per line
    table = [(codes[k], prices[k], q, (prices[k] * q + 500) // 1000, cats[k])
             for k, q in ((rng.randrange(len(fees)), rng.choice(qtys)) for _ in range(65521))]
    spread = [0.5 + rng.random() for _ in range(4099)]

    def charges():
        made, carry, j = 0, 0.0, 0
        for n_stay, (aid, ward, b, e) in enumerate(stays):
            for d in range(b, e):
                carry += mean * spread[(n_stay * 31 + d) % 4099]   # 0.5..1.5 × the mean per day
                k_day = int(carry)
                carry -= k_day
                sdate = dates[d]
                for _ in range(k_day):
                    if made >= lines:
                        return
                    code, price, qty, amount, cat = table[j]
                    j = (j + 7919) % 65521
                    made += 1
                    yield (aid, sdate, code, price, qty, amount, cat, ward, now)

    with store.transaction() as tx:
        for w in range(wards):
            tx.execute("INSERT INTO hosp_wards (code, name, building, floor) VALUES (?, ?, ?, ?)",
                       (f"W{w:02d}", f"病區{w}", "住院部", 2 + w % 20))
        store.conn.executemany("INSERT INTO hosp_beds (id, ward_code, bed_no) VALUES (?, ?, ?)",
                               [(b + 1, f"W{b // per_bed:02d}", f"{b % per_bed + 1:02d}") for b in range(beds)])
        store.conn.executemany("INSERT INTO hosp_fee_items (code, name, spec, unit, category) VALUES (?,?,?,?,?)", fees)
        store.conn.executemany("INSERT INTO hosp_patients (id, uid, name, sex, birth_date, created_at) "
                               "VALUES (?,?,?,?,?,?)", pat_rows)
        store.conn.executemany("INSERT INTO hosp_identities (id, patient_id, source, id_number, card_number, scheme, "
                               "member_id, created_at) VALUES (?,?,?,?,?,?,?,?)", ident_rows)
        store.conn.executemany("INSERT INTO hosp_notices (id, notice_no, source, patient_name, id_number, ward_code, "
                               "suggested_deposit_fen, issued_at, state) VALUES (?,?,?,?,?,?,?,?,?)", notice_rows)
        # only the last admission of a bed may still hold it (the partial unique index)
        store.conn.executemany("INSERT INTO hosp_admissions (id, uid, inpatient_no, patient_id, notice_id, ward_code, "
                               "bed_id, scheme, identity_id, state, admitted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                               adm_rows)
        store.conn.executemany("INSERT INTO hosp_ledger (admission_id, entry_no, kind, amount_fen, method, created_at) "
                               "VALUES (?,?,?,?,?,?)", ledger_rows)
        store.conn.executemany(
            "INSERT INTO hosp_charges (admission_id, service_date, fee_code, unit_price_fen, qty_milli, amount_fen, "
            "category, department, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)", charges())
    gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n = conn.execute("SELECT count(*) FROM hosp_charges").fetchone()[0]
    return {"store": store, "gen_s": gen_s, "gen_cpu": gen_cpu, "load": os.getloadavg()[0], "lines": n, "admissions": len(adm_rows),
            "size": path.stat().st_size + (Path(str(path) + "-wal").stat().st_size
                                          if Path(str(path) + "-wal").exists() else 0)}


# the baseline runs exactly the statements the domain calls run, bare
SETTLE_BARE = [SETTLE_LOOKUP_SQL, LINES_SQL, LEDGER_SQL]


def interleaved(*fns, rounds: int = 21) -> list[float]:
    """Best-of-``rounds`` CPU seconds of each function, run in turn within each round (the order
    alternates between rounds). CPU time, not wall time: the store is in the page cache, so the
    work is all CPU, and on a shared machine (CI runs suites next to us) wall time mostly measures
    the wait for a core."""
    best = [float("inf")] * len(fns)
    order = list(range(len(fns)))
    for _ in range(rounds):
        for i in order:
            t0 = time.process_time()
            fns[i]()
            best[i] = min(best[i], time.process_time() - t0)
        order.reverse()
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--path", default="")
    ap.add_argument("--keep", action="store_true", help="keep the generated store")
    ap.add_argument("--reuse", action="store_true", help="time an existing --path store instead of building one")
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--beds", type=int, default=BEDS, help="hospital size (the smoke test uses a small one)")
    ap.add_argument("--settles", type=int, default=30, help="full settlements to time")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = ap.parse_args(argv)
    tmpdir = tempfile.mkdtemp(prefix="bench_domain_")
    path = Path(args.path) if args.path else Path(tmpdir) / "domain.sqlite"
    if args.reuse and path.exists():
        st = Store(path)
        built = {"store": st, "gen_s": float("nan"), "gen_cpu": float("nan"), "load": os.getloadavg()[0],
                 "lines": st.conn.execute("SELECT count(*) FROM hosp_charges").fetchone()[0],
                 "admissions": st.conn.execute("SELECT count(*) FROM hosp_admissions").fetchone()[0],
                 "size": path.stat().st_size}
        args.keep = True
    else:
        if path.exists():
            path.unlink()
        built = build(path, args.lines, beds=args.beds)
    store = built["store"]
    conn = store.conn
    policy = load_policy()
    svc = HospitalService(store, policy, None, level="tertiary")
    rng = random.Random(11)
    adms = conn.execute("SELECT a.id, a.inpatient_no, min(c.service_date), max(c.service_date) FROM hosp_admissions a "
                        "JOIN hosp_charges c ON c.admission_id = a.id GROUP BY a.id").fetchall()
    picks = []
    for _ in range(args.samples):
        aid, no, d0, d1 = rng.choice(adms)
        span = (dt.date.fromisoformat(d1) - dt.date.fromisoformat(d0)).days
        picks.append((aid, no, (dt.date.fromisoformat(d0) + dt.timedelta(days=rng.randint(0, span))).isoformat()))

    def daily_domain():
        for _aid, no, day in picks:
            svc.daily_list(no, day)

    def daily_bare():
        for _aid, no, day in picks:
            conn.execute(DAILY_SQL, (no, day, day_end_utc(day, svc.tz))).fetchall()

    def items_only():
        for aid, _no, day in picks:
            conn.execute(ITEMS_SQL, (aid, day)).fetchall()

    def settle_domain():
        for _aid, no, _day in picks:
            svc.pre_settle(no)

    def settle_bare():
        for _aid, no, _day in picks:
            aid = conn.execute(SETTLE_BARE[0], (no,)).fetchone()[0]
            conn.execute(SETTLE_BARE[1], (aid,)).fetchall()
            conn.execute(SETTLE_BARE[2], (aid,)).fetchall()

    longest = conn.execute("SELECT a.id, a.inpatient_no, max(c.service_date), count(*) AS n FROM hosp_admissions a "
                           "JOIN hosp_charges c ON c.admission_id = a.id GROUP BY a.id ORDER BY n DESC LIMIT 30").fetchall()
    long_picks = [(aid, no, day) for aid, no, day, _n in longest]
    long_lines = sum(r[3] for r in longest) / max(1, len(longest))

    def long_domain():
        for _aid, no, day in long_picks:
            svc.daily_list(no, day)

    def long_items():
        for aid, _no, day in long_picks:
            conn.execute(ITEMS_SQL, (aid, day)).fetchall()

    daily_domain(), daily_bare(), settle_domain(), settle_bare()          # warm the cache
    n = len(picks)
    t_dd, t_db, t_io = (t / n for t in interleaved(daily_domain, daily_bare, items_only, rounds=args.rounds))
    t_sd, t_sb = (t / n for t in interleaved(settle_domain, settle_bare, rounds=args.rounds))
    t_ld, t_li = (t / max(1, len(long_picks)) for t in interleaved(long_domain, long_items, rounds=args.rounds))
    items_per_list = sum(len(conn.execute(ITEMS_SQL, (a, d)).fetchall()) for a, _n, d in picks) / n
    lines_per_stay = sum(conn.execute("SELECT count(*) FROM hosp_charges WHERE admission_id = ?", (a,)).fetchone()[0]
                         for a, _n, _d in picks) / n

    # full settlements through the simulated platform (durable: two fsync'd transactions each)
    gw = SimGateway(policy)
    svc_gw = HospitalService(store, policy, gw, level="tertiary")
    live = conn.execute("SELECT a.id, a.inpatient_no, i.id_number, i.scheme, i.member_id FROM hosp_admissions a "
                        "JOIN hosp_identities i ON i.id = a.identity_id WHERE a.state = 'identity_confirmed' "
                        "AND NOT EXISTS (SELECT 1 FROM hosp_discharges d WHERE d.admission_id = a.id) "
                        "ORDER BY a.id LIMIT ?", (args.settles,)).fetchall()
    with store.transaction() as tx:
        for aid, no, idno, scheme, member in live:
            gw.add_member(PersonInfo(member, "病人", idno, scheme))
            tx.execute("INSERT INTO hosp_discharges (admission_id, summary, ebill_no, state, ordered_at) "
                       "VALUES (?, 's', 'e', 'scheduled', ?)", (aid, "2025-12-31T00:00:00.000000Z"))
    t0 = time.perf_counter()
    for _aid, no, *_ in live:
        svc_gw.settle(no)
    t_full = (time.perf_counter() - t0) / max(1, len(live))

    size_mb = built["size"] / 1e6
    md = f"""## Hospital domain: daily fee list and settlement (`bench/bench_domain.py`)

Store: one year of a {args.beds:,}-bed hospital, {built['lines']:,} charge lines over {built['admissions']:,} admissions
(~{lines_per_stay:.0f} lines per stay), generated with `executemany` in one transaction in
{built['gen_s']:.1f} s wall, {built['gen_cpu']:.1f} s CPU ({built['lines'] / built['gen_cpu']:,.0f} lines per CPU second;
load average {built['load']:.1f} on this machine while it ran). **Store size: {size_mb:,.0f} MB**
({built['size'] / max(1, built['lines']):.0f} bytes per charge line, indexes included). Each figure is the
best of {args.rounds} rounds (domain call and baseline interleaved in each round) of {n} random
(admission, day) picks, warm cache, in process CPU time; per call.

| operation | domain call | bare indexed SQL, same run | ratio (goal ≤ 1.5×) |
|---|---|---|---|
| **daily fee list (`daily_list`, ~{items_per_list:.0f} items) vs the day's items query alone** | {t_dd * 1e6:,.0f} µs | {t_io * 1e6:,.0f} µs | **{t_dd / t_io:.2f}×** |
| ... the same for the 30 longest stays (~{long_lines:,.0f} lines each, their last day) | {t_ld * 1e6:,.0f} µs | {t_li * 1e6:,.0f} µs | **{t_ld / t_li:.2f}×** |
| daily fee list vs its one statement run bare (`DAILY_SQL`: the admission, its running total and ledger sums and open green items, the day's items) | {t_dd * 1e6:,.0f} µs | {t_db * 1e6:,.0f} µs | {t_dd / t_db:.2f}× |
| settlement (`pre_settle`, policy tables, split line by line as 2301 does) | {t_sd * 1e6:,.0f} µs | {t_sb * 1e6:,.0f} µs (its 3 statements: lookup, the stay's lines, ledger sums) | **{t_sd / t_sb:.2f}×** |
| full `settle` via the simulated platform (intent + record, 2 durable commits, fee upload) | {t_full * 1e3:,.1f} ms | – | fsync-bound, for information |

The honest baseline for the daily list is the one query a patient's list cannot do without, the
day's items. The list is now one statement (`pos.hospital.daily.DAILY_SQL`, used by the screen and
the paper alike): a first row with the admission, the running total, the ledger sums and the open
green items (each a correlated probe of one index), then the day's items; before, it sent five
(lookup, items, running total, ledger, green items), each a round trip through sqlite3 and Python,
and was 2.00× the items query (2.12× for the longest stays). The running total now sums the stay's
days in `hosp_charge_days` (one row per admission and service day, kept by an `AFTER INSERT`
trigger on the append-only charge lines, so a synced line keeps it too) instead of every line of
the stay, which is why the longest stays no longer cost more. What is left over the items query is
the admission's row (its index probe, the patient's name and the three sums) and building the
`DailyList` in Python; the items are sorted by id in Python, which is cheaper than SQLite's sorter
for ~15 rows. A plan test (`tests/test_hospital_daily.py::test_daily_list_is_one_indexed_statement`)
checks with a big store's statistics that every table is reached through an index.

The settlement's baseline reads every line of the stay (the platform rounds 乙 self-pay-first and
over-cap amounts per line, so category sums are no longer enough); before the per-line engine it
was the category sums alone (66 µs against 58 µs, 1.14×, on the previous run).
"""
    if args.no_write:
        print(md)
    else:
        write_section("domain", md)
    store.close()
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        if not args.path:
            os.rmdir(tmpdir)
    else:
        print(f"kept {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
