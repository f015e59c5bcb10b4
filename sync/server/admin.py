"""The IT staff page (``/admin``): server-rendered HTML, no build step, no script.

Each kiosk with its last-seen time, queue depth, clock skew and device health (reported in push
metadata); today's admissions, discharges and deposits; and the bed conflict queue. The page
reloads itself every 15 s. Each conflict links to its own page (``/admin/conflicts/ID``, no
reload) where a nurse assigns the admission another bed or dismisses the entry with a reason
(plain HTML forms, POST, then a redirect back). Labels exist in zh-Hans, zh-Hant and en (``?lang=``).
"""

from __future__ import annotations

import html
import importlib
import json
import secrets
from datetime import datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from pos import packs

from .. import protocol as P
from .service import event_head, today_bounds

__all__ = ["overview", "render_admin", "render_resolve", "find_conflict", "LABELS"]

LABELS = {
    "en": {"title": "onestop - central server", "kiosks": "Kiosks", "device": "Device", "last_seen": "Last seen",
           "queue": "Queue", "skew": "Clock skew (s)", "health": "Device health", "status": "Status",
           "revoked": "revoked", "ok": "ok", "today": "Today", "admissions": "Admissions",
           "discharges": "Discharges", "deposits": "Deposits", "conflicts": "Bed conflict queue",
           "bed": "Bed", "admission": "Admission", "held_by": "Held by", "since": "Claimed at",
           "none": "none", "patient": "Patient", "ward": "Ward", "time": "Time", "events": "Event log head",
           "action": "Action", "resolve": "Resolve", "resolve_title": "Resolve a bed conflict",
           "assign_title": "Assign another bed", "bed_no": "Bed no.", "by": "Your name or staff ID",
           "assign": "Assign", "dismiss_title": "Dismiss without a bed", "reason": "Reason", "dismiss": "Dismiss",
           "back": "Back to the overview", "resolved": "Recently resolved", "resolved_at": "Resolved at",
           "resolution": "Resolution", "assigned_to": "assigned to {bed}", "dismissed": "dismissed: {reason}",
           "done": "Resolved: {admission} ({result}).", "resolved_by": "Resolved by", "free_note": "The bed must be free from now on.",
           "err_not_found": "There is no such conflict.",
           "err_already_resolved": "This conflict has already been resolved.",
           "err_bed_taken": "Bed {bed} is taken by {held_by}.",
           "err_has_bed": "{admission} already holds bed {bed}.",
           "err_bed_required": "Enter the ward and the bed number.",
           "err_by_required": "Enter your name or staff ID.", "err_reason_required": "Enter a reason.",
           "err_too_long": "Too long: at most {limit} characters.", "err_invalid": "The request was not valid."},
    "zh-Hans": {"title": "onestop - 中心服务器", "kiosks": "自助机", "device": "设备", "last_seen": "最近联系",
                "queue": "待传", "skew": "时钟偏差（秒）", "health": "外设状态", "status": "状态",
                "revoked": "已吊销", "ok": "正常", "today": "今日", "admissions": "入院",
                "discharges": "出院", "deposits": "预交金", "conflicts": "床位冲突待处理",
                "bed": "床位", "admission": "住院号", "held_by": "占用者", "since": "申请时间",
                "none": "无", "patient": "患者", "ward": "病区", "time": "时间", "events": "事件序号",
                "action": "操作", "resolve": "处理", "resolve_title": "处理床位冲突",
                "assign_title": "改分配其他床位", "bed_no": "床号", "by": "处理人（姓名或工号）",
                "assign": "分配", "dismiss_title": "不分配床位，关闭此冲突", "reason": "原因", "dismiss": "关闭",
                "back": "返回总览", "resolved": "最近已处理", "resolved_at": "处理时间",
                "resolution": "处理结果", "assigned_to": "改分配至 {bed}", "dismissed": "已关闭：{reason}",
                "done": "已处理：{admission}（{result}）。", "resolved_by": "处理人", "free_note": "该床位须从现在起空闲。",
                "err_not_found": "找不到该床位冲突。",
                "err_already_resolved": "该床位冲突已处理。",
                "err_bed_taken": "床位 {bed} 已被 {held_by} 占用。",
                "err_has_bed": "{admission} 已有床位 {bed}。",
                "err_bed_required": "请填写病区和床号。",
                "err_by_required": "请填写处理人。", "err_reason_required": "请填写原因。",
                "err_too_long": "内容过长：最多 {limit} 个字符。", "err_invalid": "请求无效。"},
    "zh-Hant": {"title": "onestop - 中心伺服器", "kiosks": "自助機", "device": "設備", "last_seen": "最近聯繫",
                "queue": "待傳", "skew": "時鐘偏差（秒）", "health": "外設狀態", "status": "狀態",
                "revoked": "已撤銷", "ok": "正常", "today": "今日", "admissions": "入院",
                "discharges": "出院", "deposits": "預交金", "conflicts": "床位衝突待處理",
                "bed": "床位", "admission": "住院號", "held_by": "佔用者", "since": "申請時間",
                "none": "無", "patient": "患者", "ward": "病區", "time": "時間", "events": "事件序號",
                "action": "操作", "resolve": "處理", "resolve_title": "處理床位衝突",
                "assign_title": "改分配其他床位", "bed_no": "床號", "by": "處理人（姓名或工號）",
                "assign": "分配", "dismiss_title": "不分配床位，關閉此衝突", "reason": "原因", "dismiss": "關閉",
                "back": "返回總覽", "resolved": "最近已處理", "resolved_at": "處理時間",
                "resolution": "處理結果", "assigned_to": "改分配至 {bed}", "dismissed": "已關閉：{reason}",
                "done": "已處理：{admission}（{result}）。", "resolved_by": "處理人", "free_note": "該床位須從現在起空閒。",
                "err_not_found": "找不到該床位衝突。",
                "err_already_resolved": "該床位衝突已處理。",
                "err_bed_taken": "床位 {bed} 已被 {held_by} 佔用。",
                "err_has_bed": "{admission} 已有床位 {bed}。",
                "err_bed_required": "請填寫病區和床號。",
                "err_by_required": "請填寫處理人。", "err_reason_required": "請填寫原因。",
                "err_too_long": "內容過長：最多 {limit} 個字元。", "err_invalid": "請求無效。"},
}

_CONFLICT_COLUMNS = ("conflict_id", "bed_id", "admission_id", "device_id", "held_by", "start_at", "created_at",
                     "resolved_at", "resolution")


def overview(backend, tz: str) -> dict:
    start, end = today_bounds(tz)
    local_day = datetime.now(ZoneInfo(tz)).strftime("%Y-%m-%d")
    with backend.tx() as cur:
        devices = [dict(zip(("device_id", "name", "last_seen", "queue_depth", "skew_s", "health", "revoked_at",
                             "last_seq_pulled"), r))
                   for r in cur.execute("SELECT device_id, name, last_seen, queue_depth, skew_s, health, revoked_at, "
                                        "last_seq_pulled FROM devices ORDER BY device_id").fetchall()]
        site = {}                   # each site pack's part of the page (its server module's admin_overview)
        for p in packs.active():
            if p.server and hasattr(mod := importlib.import_module(p.server), "admin_overview"):
                site.update(mod.admin_overview(cur, start, end, local_day))
        cols = ", ".join(_CONFLICT_COLUMNS)
        conflicts = [_conflict(r) for r in cur.execute(
            f"SELECT {cols} FROM bed_conflicts WHERE resolved_at IS NULL ORDER BY created_at").fetchall()]
        resolved = [_conflict(r) for r in cur.execute(
            f"SELECT {cols} FROM bed_conflicts WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT 20"
        ).fetchall()]
        head = event_head(cur)
    for d in devices:
        d["health"] = json.loads(d["health"]) if d["health"] else {}
    return {"devices": devices, **site, "conflicts": conflicts, "resolved": resolved, "head": head}


def _conflict(row) -> dict:
    c = dict(zip(_CONFLICT_COLUMNS, row))
    c["resolution"] = json.loads(c["resolution"]) if c["resolution"] else None
    return c


def find_conflict(backend, conflict_id: str) -> dict | None:
    with backend.tx() as cur:
        row = cur.execute(f"SELECT {', '.join(_CONFLICT_COLUMNS)} FROM bed_conflicts WHERE conflict_id = ?",
                          (conflict_id,)).fetchone()
    return _conflict(row) if row else None


def _local(iso: str | None, tz: str) -> str:
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M:%S")
    except ValueError:
        return str(iso)


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


_STYLE = """
body { font-family: "Noto Sans CJK SC", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.4em; }
table { border-collapse: collapse; min-width: 40em; } td, th { border: 1px solid #bbb; padding: .3em .6em; text-align: left; }
th { background: #eef; } .num { text-align: right; } .warn { background: #fdd; font-weight: bold; }
.tiles { display: flex; gap: 1em; } .tile { border: 1px solid #bbb; padding: .6em 1.2em; border-radius: 6px; }
.tile b { font-size: 1.6em; display: block; } .conflict td { background: #fff3cd; } .none { color: #888; }
.notice { background: #d4edda; padding: .6em 1em; border-radius: 6px; } .error { background: #f8d7da; padding: .6em 1em; border-radius: 6px; }
form { border: 1px solid #bbb; border-radius: 6px; padding: .8em 1.2em; margin: 1em 0; max-width: 40em; }
label { display: block; margin: .4em 0; } input[type=text] { font-size: 1em; padding: .2em; width: 20em; }
button { font-size: 1em; padding: .3em 1.2em; }
"""


def _page(lang: str, title: str, body: str, refresh: bool, refresh_url: str = "") -> str:
    """``refresh_url``: where the 15 s refresh goes (the overview without a one-time notice)."""
    e = html.escape
    target = f"; url={refresh_url}" if refresh_url else ""
    meta = f'<meta http-equiv="refresh" content="15{e(target)}">' if refresh else ""
    return f"""<!doctype html>
<html lang="{e(lang)}"><head><meta charset="utf-8">{meta}
<title>{e(title)}</title>
<style>{_STYLE}</style></head><body>
{body}
</body></html>"""


def _url(path: str, token: str, lang: str, **more) -> str:
    return f"{path}?{urlencode({'token': token, 'lang': lang, **more})}"


def resolution_text(t: dict, resolution: dict | None) -> str:
    if not resolution:
        return "-"
    if resolution.get("action") == "assign":
        return t["assigned_to"].format(bed=resolution.get("bed_id", "?"))
    return t["dismissed"].format(reason=resolution.get("reason", ""))


def render_admin(data: dict, tz: str, lang: str = "zh-Hans", token: str = "", notice: dict | None = None) -> str:
    """The overview; ``notice`` is a conflict just resolved (shown once, after the redirect)."""
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
    con = "".join(f"<tr class='conflict' data-conflict='{e(c['conflict_id'])}'><td>{e(c['bed_id'])}</td>"
                  f"<td>{e(c['admission_id'])}</td><td>{e(c['device_id'])}</td><td>{e(c['held_by'])}</td>"
                  f"<td>{e(_local(c['created_at'], tz))}</td>"
                  f"<td><a class='resolve' href='{e(_url('/admin/conflicts/' + quote(c['conflict_id'], safe=''), token, lang))}'>"
                  f"{e(t['resolve'])}</a></td></tr>"
                  for c in data["conflicts"])
    res = "".join(f"<tr class='resolved' data-conflict='{e(c['conflict_id'])}'><td>{e(c['bed_id'])}</td>"
                  f"<td>{e(c['admission_id'])}</td><td>{e(resolution_text(t, c['resolution']))}</td>"
                  f"<td>{e((c['resolution'] or {}).get('by', ''))}</td><td>{e(_local(c['resolved_at'], tz))}</td></tr>"
                  for c in data.get("resolved", []))
    none = f"<tr><td colspan='6' class='none'>{e(t['none'])}</td></tr>"
    dep = data["deposits"]
    done = ""
    if notice:
        done = (f"<p class='notice' id='notice'>{e(t['done'].format(admission=notice['admission_id'], result=resolution_text(t, notice['resolution'])))}</p>")
    body = f"""<h1>{e(t['title'])}</h1>
{done}
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
<table id="conflicts"><tr><th>{e(t['bed'])}</th><th>{e(t['admission'])}</th><th>{e(t['device'])}</th><th>{e(t['held_by'])}</th><th>{e(t['since'])}</th><th>{e(t['action'])}</th></tr>
{con or none}</table>
<h2>{e(t['resolved'])}</h2>
<table id="resolved"><tr><th>{e(t['bed'])}</th><th>{e(t['admission'])}</th><th>{e(t['resolution'])}</th><th>{e(t['resolved_by'])}</th><th>{e(t['resolved_at'])}</th></tr>
{res or none}</table>
<h2>{e(t['admissions'])}</h2>
<table id="admissions"><tr><th>{e(t['admission'])}</th><th>{e(t['patient'])}</th><th>{e(t['ward'])}</th><th>{e(t['time'])}</th></tr>
{adm or none}</table>
<h2>{e(t['discharges'])}</h2>
<table id="discharges"><tr><th>{e(t['admission'])}</th><th>{e(t['patient'])}</th><th>{e(t['time'])}</th></tr>
{dis or none}</table>"""
    # the refresh reloads the plain overview: a resolution's notice is shown once, not every 15 s
    return _page(lang, t["title"], body, refresh=True, refresh_url=_url("/admin", token, lang))


def render_resolve(conflict: dict, tz: str, lang: str = "zh-Hans", token: str = "", error: dict | None = None,
                   form: dict | None = None) -> str:
    """One conflict with two forms: assign another bed, or dismiss with a reason. ``error`` is a refused
    attempt (``code`` and ``params`` of a ResolveError), re-shown with what was typed (``form``)."""
    t = LABELS.get(lang, LABELS["zh-Hans"])
    e = html.escape
    form = form or {}
    action = e(_url(f"/admin/conflicts/{quote(conflict['conflict_id'], safe='')}/resolve", token, lang))
    ward = form.get("ward_code", conflict["bed_id"].split("/", 1)[0])
    err = ""
    if error:
        text = t.get(f"err_{error['code']}", t["err_invalid"])
        try:
            text = text.format(**error.get("params", {}))
        except (KeyError, IndexError):
            pass
        err = f"<p class='error' id='error'>{e(text)}</p>"
    body = f"""<h1>{e(t['resolve_title'])}</h1>
{err}
<table id="conflict"><tr><th>{e(t['bed'])}</th><th>{e(t['admission'])}</th><th>{e(t['device'])}</th><th>{e(t['held_by'])}</th><th>{e(t['since'])}</th></tr>
<tr class="conflict"><td>{e(conflict['bed_id'])}</td><td>{e(conflict['admission_id'])}</td><td>{e(conflict['device_id'])}</td><td>{e(conflict['held_by'])}</td><td>{e(_local(conflict['created_at'], tz))}</td></tr></table>
<form id="assign" method="post" action="{action}">
<h2>{e(t['assign_title'])}</h2>
<input type="hidden" name="action" value="assign"><input type="hidden" name="request_id" value="{secrets.token_hex(16)}">
<label>{e(t['ward'])} <input type="text" name="ward_code" value="{e(ward)}" required maxlength="100"></label>
<label>{e(t['bed_no'])} <input type="text" name="bed_no" value="{e(form.get('bed_no', ''))}" required maxlength="100"></label>
<label>{e(t['by'])} <input type="text" name="by" value="{e(form.get('by', ''))}" required maxlength="80"></label>
<p class="none">{e(t['free_note'])}</p>
<button type="submit">{e(t['assign'])}</button>
</form>
<form id="dismiss" method="post" action="{action}">
<h2>{e(t['dismiss_title'])}</h2>
<input type="hidden" name="action" value="dismiss"><input type="hidden" name="request_id" value="{secrets.token_hex(16)}">
<label>{e(t['reason'])} <input type="text" name="reason" value="{e(form.get('reason', ''))}" required maxlength="200"></label>
<label>{e(t['by'])} <input type="text" name="by" value="{e(form.get('by', ''))}" required maxlength="80"></label>
<button type="submit">{e(t['dismiss'])}</button>
</form>
<p><a id="back" href="{e(_url('/admin', token, lang))}">{e(t['back'])}</a></p>"""
    return _page(lang, t["resolve_title"], body, refresh=False)
