"""The IT staff page (``/admin``): server-rendered HTML, no build step, no script.

Each kiosk with its last-seen time, queue depth, clock skew and device health (reported in push
metadata); today's admissions, discharges and deposits; and the bed conflict queue. The page
reloads itself every 15 s. Labels exist in zh-Hans, zh-Hant and en (``?lang=``).
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from .. import protocol as P
from .service import today_bounds

__all__ = ["overview", "render_admin", "LABELS"]

LABELS = {
    "en": {"title": "onestop - central server", "kiosks": "Kiosks", "device": "Device", "last_seen": "Last seen",
           "queue": "Queue", "skew": "Clock skew (s)", "health": "Device health", "status": "Status",
           "revoked": "revoked", "ok": "ok", "today": "Today", "admissions": "Admissions",
           "discharges": "Discharges", "deposits": "Deposits", "conflicts": "Bed conflict queue",
           "bed": "Bed", "admission": "Admission", "held_by": "Held by", "since": "Claimed at",
           "none": "none", "patient": "Patient", "ward": "Ward", "time": "Time", "events": "Event log head"},
    "zh-Hans": {"title": "onestop - 中心服务器", "kiosks": "自助机", "device": "设备", "last_seen": "最近联系",
                "queue": "待传", "skew": "时钟偏差（秒）", "health": "外设状态", "status": "状态",
                "revoked": "已吊销", "ok": "正常", "today": "今日", "admissions": "入院",
                "discharges": "出院", "deposits": "预交金", "conflicts": "床位冲突待处理",
                "bed": "床位", "admission": "住院号", "held_by": "占用者", "since": "申请时间",
                "none": "无", "patient": "患者", "ward": "病区", "time": "时间", "events": "事件序号"},
    "zh-Hant": {"title": "onestop - 中心伺服器", "kiosks": "自助機", "device": "設備", "last_seen": "最近聯繫",
                "queue": "待傳", "skew": "時鐘偏差（秒）", "health": "外設狀態", "status": "狀態",
                "revoked": "已撤銷", "ok": "正常", "today": "今日", "admissions": "入院",
                "discharges": "出院", "deposits": "預交金", "conflicts": "床位衝突待處理",
                "bed": "床位", "admission": "住院號", "held_by": "佔用者", "since": "申請時間",
                "none": "無", "patient": "患者", "ward": "病區", "time": "時間", "events": "事件序號"},
}


def overview(backend, tz: str) -> dict:
    start, end = today_bounds(tz)
    local_day = datetime.now(ZoneInfo(tz)).strftime("%Y-%m-%d")
    with backend.tx() as cur:
        devices = [dict(zip(("device_id", "name", "last_seen", "queue_depth", "skew_s", "health", "revoked_at",
                             "last_seq_pulled"), r))
                   for r in cur.execute("SELECT device_id, name, last_seen, queue_depth, skew_s, health, revoked_at, "
                                        "last_seq_pulled FROM devices ORDER BY device_id").fetchall()]
        admissions = [dict(zip(("admission_id", "patient", "ward", "admitted_at"), r)) for r in cur.execute(
            "SELECT admission_id, patient, ward, admitted_at FROM admissions WHERE admitted_at >= ? AND admitted_at < ? "
            "ORDER BY admitted_at", (start, end)).fetchall()]
        discharges = [dict(zip(("admission_id", "patient", "scheduled_at", "discharged_at"), r)) for r in cur.execute(
            "SELECT admission_id, patient, discharge_scheduled_at, discharged_at FROM admissions "
            "WHERE discharge_scheduled_at = ? OR (discharged_at >= ? AND discharged_at < ?) ORDER BY admission_id",
            (local_day, start, end)).fetchall()]
        dep = cur.execute("SELECT count(*), coalesce(sum(amount_fen), 0) FROM ledger WHERE entry_kind = 'deposit' "
                          "AND created_at >= ? AND created_at < ?", (start, end)).fetchone()
        conflicts = [dict(zip(("conflict_id", "bed_id", "admission_id", "device_id", "held_by", "created_at"), r))
                     for r in cur.execute("SELECT conflict_id, bed_id, admission_id, device_id, held_by, created_at "
                                          "FROM bed_conflicts WHERE resolved_at IS NULL ORDER BY created_at").fetchall()]
        head = cur.execute("SELECT value FROM counters WHERE name = 'events'").fetchone()[0]
    for d in devices:
        d["health"] = json.loads(d["health"]) if d["health"] else {}
    return {"devices": devices, "admissions": admissions, "discharges": discharges,
            "deposits": {"count": dep[0], "total_fen": int(dep[1])}, "conflicts": conflicts, "head": head}


def _local(iso: str | None, tz: str) -> str:
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M:%S")
    except ValueError:
        return str(iso)


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def render_admin(data: dict, tz: str, lang: str = "zh-Hans") -> str:
    t = LABELS.get(lang, LABELS["zh-Hans"])
    e = html.escape
    rows = []
    for d in data["devices"]:
        health = ", ".join(f"{e(str(k))}: {e(str(v))}" for k, v in sorted(d["health"].items())) or "-"
        skew = d["skew_s"]
        skew_cls = "warn" if skew is not None and abs(skew) > P.SKEW_WARN_S else ""
        status = t["revoked"] if d["revoked_at"] else t["ok"]
        rows.append(f"<tr class='device' data-device='{e(d['device_id'])}'><td>{e(d['device_id'])}</td>"
                    f"<td>{e(_local(d['last_seen'], tz))}</td><td class='num'>{d['queue_depth'] if d['queue_depth'] is not None else '-'}</td>"
                    f"<td class='num {skew_cls}'>{'-' if skew is None else (f'{round(skew):+d}' if round(skew) else '0')}</td><td>{health}</td>"
                    f"<td>{e(status)}</td></tr>")
    adm = "".join(f"<tr><td>{e(a['admission_id'])}</td><td>{e(a['patient'])}</td><td>{e(a['ward'])}</td>"
                  f"<td>{e(_local(a['admitted_at'], tz))}</td></tr>" for a in data["admissions"])
    dis = "".join(f"<tr><td>{e(a['admission_id'])}</td><td>{e(a['patient'])}</td>"
                  f"<td>{e(_local(a['discharged_at'], tz) if a['discharged_at'] else a['scheduled_at'])}</td></tr>" for a in data["discharges"])
    con = "".join(f"<tr class='conflict'><td>{e(c['bed_id'])}</td><td>{e(c['admission_id'])}</td>"
                  f"<td>{e(c['device_id'])}</td><td>{e(c['held_by'])}</td><td>{e(_local(c['created_at'], tz))}</td></tr>"
                  for c in data["conflicts"])
    none = f"<tr><td colspan='6' class='none'>{e(t['none'])}</td></tr>"
    dep = data["deposits"]
    return f"""<!doctype html>
<html lang="{e(lang)}"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>{e(t['title'])}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.1em; margin-top: 1.4em; }}
table {{ border-collapse: collapse; min-width: 40em; }} td, th {{ border: 1px solid #bbb; padding: .3em .6em; text-align: left; }}
th {{ background: #eef; }} .num {{ text-align: right; }} .warn {{ background: #fdd; font-weight: bold; }}
.tiles {{ display: flex; gap: 1em; }} .tile {{ border: 1px solid #bbb; padding: .6em 1.2em; border-radius: 6px; }}
.tile b {{ font-size: 1.6em; display: block; }} .conflict td {{ background: #fff3cd; }} .none {{ color: #888; }}
</style></head><body>
<h1>{e(t['title'])}</h1>
<p>{e(t['events'])}: <span id="head">{data['head']}</span></p>
<h2>{e(t['today'])}</h2>
<div class="tiles">
<div class="tile" id="admissions-count">{e(t['admissions'])}<b>{len(data['admissions'])}</b></div>
<div class="tile" id="discharges-count">{e(t['discharges'])}<b>{len(data['discharges'])}</b></div>
<div class="tile" id="deposits-total">{e(t['deposits'])}<b>{_yuan(dep['total_fen'])}</b>({dep['count']})</div>
</div>
<h2>{e(t['kiosks'])}</h2>
<table id="devices"><tr><th>{e(t['device'])}</th><th>{e(t['last_seen'])}</th><th>{e(t['queue'])}</th><th>{e(t['skew'])}</th><th>{e(t['health'])}</th><th>{e(t['status'])}</th></tr>
{''.join(rows) or none}</table>
<h2>{e(t['conflicts'])}</h2>
<table id="conflicts"><tr><th>{e(t['bed'])}</th><th>{e(t['admission'])}</th><th>{e(t['device'])}</th><th>{e(t['held_by'])}</th><th>{e(t['since'])}</th></tr>
{con or none}</table>
<h2>{e(t['admissions'])}</h2>
<table id="admissions"><tr><th>{e(t['admission'])}</th><th>{e(t['patient'])}</th><th>{e(t['ward'])}</th><th>{e(t['time'])}</th></tr>
{adm or none}</table>
<h2>{e(t['discharges'])}</h2>
<table id="discharges"><tr><th>{e(t['admission'])}</th><th>{e(t['patient'])}</th><th>{e(t['time'])}</th></tr>
{dis or none}</table>
</body></html>"""
