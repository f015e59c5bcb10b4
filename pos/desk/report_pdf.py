"""The monthly report as charts (matplotlib, Agg: no display) and a PDF (WeasyPrint): the daily
trend, channel shares, categories, the Pareto of complaint causes and the satisfaction figures,
the tables of :func:`pos.desk.report.monthly`, the analysis text and the manager's sign-off."""

from __future__ import annotations

import base64
import html
import io

from .catalogue import load_catalogue

__all__ = ["charts", "render_pdf", "T"]

FONT = ["Noto Sans CJK SC", "Noto Sans CJK TC", "WenQuanYi Zen Hei", "DejaVu Sans"]

#: English -> (zh-Hans, zh-Hant)
_T = {
    "Monthly service statistics and analysis": ("客户服务信息统计分析汇总表", "客戶服務信息統計分析匯總表"),
    "Daily orders": ("每日工单量", "每日工單量"), "Channels": ("渠道占比", "渠道佔比"),
    "Categories": ("类别", "類別"), "Complaint causes (Pareto)": ("投诉原因（帕累托）", "投訴原因（柏拉圖）"),
    "Satisfaction": ("满意度", "滿意度"), "Orders": ("工单", "工單"), "Cumulative %": ("累计%", "累計%"),
    "This month": ("本月", "本月"), "Last month": ("上月", "上月"), "Change": ("变化", "變化"),
    "Received": ("受理", "受理"), "Backlog": ("积压", "積壓"), "QC failed": ("质检不合格", "質檢不合格"),
    "Overdue": ("超时", "超時"), "Paid (fen)": ("有偿收入（分）", "有償收入（分）"),
    "Staff": ("人员", "人員"), "Dispatched": ("派工", "派工"), "Returned": ("返工", "返工"),
    "Completed": ("完成", "完成"), "Followed up": ("回访", "回訪"), "Avg rating": ("平均评分", "平均評分"),
    "Timeliness": ("及时性", "及時性"), "Avg response (min)": ("平均响应（分钟）", "平均響應（分鐘）"),
    "Avg resolution (h)": ("平均解决（小时）", "平均解決（小時）"), "Within SLA %": ("时限内完成%", "時限內完成%"),
    "Reopened": ("重开", "重開"), "Quality": ("质量", "質量"), "Follow-up coverage %": ("回访覆盖率%", "回訪覆蓋率%"),
    "Satisfied %": ("满意率%", "滿意率%"), "Paid services": ("有偿服务", "有償服務"), "Count": ("笔数", "筆數"),
    "Unpaid": ("未付", "未付"), "Analysis": ("分析", "分析"), "Manager's sign-off": ("物业经理签字", "物業經理簽字"),
    "Backlog by building": ("按楼栋积压", "按樓棟積壓"), "Backlog by age (days)": ("按时长积压（天）", "按時長積壓（天）"),
    "Top requests": ("主要服务需求", "主要服務需求"), "Satisfied or acceptable": ("满意或基本满意", "滿意或基本滿意"),
    "Dissatisfied": ("不满意", "不滿意"),
    # the server's report page (pos.desk.pages)
    "Month": ("月份", "月份"), "Show": ("查看", "查看"), "Figures": ("统计数字", "統計數字"),
    "Charts": ("图表", "圖表"), "Month-over-month": ("环比", "環比"), "Category": ("类别", "類別"),
    "Save the analysis": ("保存分析", "儲存分析"), "Written by": ("撰写人", "撰寫人"),
    "Sign off": ("签字确认", "簽字確認"), "Manager's name": ("物业经理姓名", "物業經理姓名"),
    "Signed by": ("签字人", "簽字人"), "Signed at": ("签字时间", "簽字時間"), "Not signed yet": ("尚未签字", "尚未簽字"),
    "PDF of the report": ("报表PDF", "報表PDF"), "Draft PDF": ("草稿PDF", "草稿PDF"),
    "The analysis is saved.": ("分析已保存。", "分析已儲存。"), "The report is signed off.": ("报表已签字确认。", "報表已簽字確認。"),
    "The report is signed off and can no longer be changed.": ("报表已签字确认，不能再修改。", "報表已簽字確認，不能再修改。"),
    "Give the manager's name to sign off.": ("请填写物业经理姓名后再签字。", "請填寫物業經理姓名後再簽字。"),
    "Write the analysis before signing off.": ("请先填写分析再签字。", "請先填寫分析再簽字。"),
    "Give the month as YYYY-MM.": ("月份格式应为 YYYY-MM。", "月份格式應為 YYYY-MM。"),
    "No such chart.": ("没有这个图表。", "沒有這個圖表。"),
    "The analysis is too long.": ("分析内容太长。", "分析內容太長。"),
    "Orders received": ("受理工单", "受理工單"), "Channel / kind": ("渠道 / 类型", "渠道 / 類型"),
    "Paid": ("已付", "已付"), "Avg response": ("平均响应", "平均響應"),
    "IT page": ("信息管理页", "資訊管理頁"),
    "Intake callers": ("接入系统", "接入系統"), "Device": ("设备", "設備"), "Role": ("角色", "角色"),
    "Allow intake": ("允许接入", "允許接入"), "Withdraw": ("撤销", "撤銷"),
    "monitoring": ("监控中心", "監控中心"), "repair_centre": ("报修中心", "報修中心"),
    "Unknown device or role.": ("设备或角色无效。", "設備或角色無效。"),
}


def T(msgid: str, lang: str) -> str:
    if lang == "en" or msgid not in _T:
        return msgid
    return _T[msgid][1 if lang == "zh-Hant" else 0]


def _fig_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return buf.getvalue()


def charts(report: dict, lang: str = "zh-Hans") -> dict[str, bytes]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams["font.sans-serif"] = FONT
    plt.rcParams["axes.unicode_minus"] = False
    cur, prev = report["current"], report["previous"]
    cat = load_catalogue()
    name = lambda c: cat.categories[c].label(lang) if c in cat.categories else (c or "-")  # noqa: E731
    out = {}
    fig, ax = plt.subplots(figsize=(7, 2.6))
    days = list(cur["daily"])
    ax.bar(range(len(days)), [cur["daily"][d] for d in days], color="#4a7bb7")
    ax.set_xticks(range(len(days)), [d[8:] for d in days], fontsize=6)
    ax.set_title(T("Daily orders", lang))
    out["daily"] = _fig_png(fig)
    fig, ax = plt.subplots(figsize=(4, 3))
    ch = {}
    for k, n in cur["volume"]["channel_kind"].items():
        ch[k.split("/")[0]] = ch.get(k.split("/")[0], 0) + n
    ax.pie(list(ch.values()), labels=list(ch), autopct="%1.0f%%", textprops={"fontsize": 7})
    ax.set_title(T("Channels", lang))
    out["channels"] = _fig_png(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    cats = sorted(cur["volume"]["category"].items(), key=lambda kv: -kv[1])
    ax.barh([name(c) for c, _ in cats][::-1], [n for _, n in cats][::-1], color="#6aa56a", label=T("This month", lang))
    ax.set_title(T("Categories", lang))
    ax.tick_params(labelsize=7)
    out["categories"] = _fig_png(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    causes = cur["causes"]
    ax.bar([c["cause"] for c in causes], [c["count"] for c in causes], color="#c0504d")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax2 = ax.twinx()
    ax2.plot([c["cause"] for c in causes], [c["cumulative_pct"] for c in causes], color="#333", marker="o")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel(T("Cumulative %", lang))
    ax.set_title(T("Complaint causes (Pareto)", lang))
    out["causes"] = _fig_png(fig)
    fig, ax = plt.subplots(figsize=(4, 2.6))
    labels = [T("Last month", lang), T("This month", lang)]
    ok = [prev["quality"]["satisfied"], cur["quality"]["satisfied"]]
    bad = [prev["quality"]["follow_ups"] - ok[0], cur["quality"]["follow_ups"] - ok[1]]
    ax.bar(labels, ok, color="#6aa56a", label=T("Satisfied or acceptable", lang))
    ax.bar(labels, bad, bottom=ok, color="#c0504d", label=T("Dissatisfied", lang))
    ax.legend(fontsize=7)
    ax.set_title(T("Satisfaction", lang))
    out["satisfaction"] = _fig_png(fig)
    return out


def _img(png: bytes) -> str:
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(head: list[str], rows: list[list]) -> str:
    e = lambda v: html.escape("" if v is None else str(v))  # noqa: E731
    return ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def report_html(report: dict, lang: str = "zh-Hans", analysis: str = "", signed_by: str = "",
                site_name: str = "") -> str:
    L = lambda m: T(m, lang)  # noqa: E731
    cur, prev, ch = report["current"], report["previous"], report["change"]
    pngs = charts(report, lang)
    t = cur["timeliness"]
    avg = lambda s, n: round(s / n, 1) if n else None  # noqa: E731
    heads = [[L(k), v["now"], v["before"], v["delta"]] for k, v in (
        ("Received", ch["received"]), ("Backlog", ch["backlog"]), ("QC failed", ch["qc_failed"]),
        ("Overdue", ch["overdue"]), ("Paid (fen)", ch["paid_fen"]))]
    staff = [[who, s["dispatched"], s["returned"], s["completed"], s["followed_up"],
              avg(s["rating_sum"], s["rating_n"])] for who, s in sorted(cur["staff"].items(), key=lambda kv: str(kv[0]))]
    q = cur["quality"]
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{L('Monthly service statistics and analysis')}</title>
<style>@page {{ size: A4; margin: 15mm }} body {{ font-family: {', '.join(repr(f) for f in FONT)}; font-size: 9pt }}
table {{ border-collapse: collapse; margin: 4pt 0 }} td, th {{ border: 0.5pt solid #888; padding: 2pt 5pt }}
img {{ max-width: 100%; }} h1 {{ font-size: 15pt }} h2 {{ font-size: 11pt; margin-top: 8pt }}
.pb {{ page-break-before: always }}</style></head><body>
<h1>{html.escape(site_name)} {L('Monthly service statistics and analysis')} {cur['month']}</h1>
{_table(['', L('This month'), L('Last month'), L('Change')], heads)}
{_img(pngs['daily'])}
{_img(pngs['channels'])} {_img(pngs['satisfaction'])}
<h2>{L('Timeliness')}</h2>
{_table([L('Avg response (min)'), L('Avg resolution (h)'), L('Within SLA %'), L('Overdue'), L('Reopened')],
        [[avg(t['response_s'] / 60, t['response_n']), avg(t['resolution_s'] / 3600, t['resolution_n']),
          t['within_sla_pct'], t['overdue'], t['reopened']]])}
<h2>{L('Quality')}</h2>
{_table([L('Follow-up coverage %'), L('Satisfied %'), L('QC failed')],
        [[q['coverage_pct'], q['satisfaction_pct'], q['qc_failed']]])}
<h2 class="pb">{L('Categories')}</h2>{_img(pngs['categories'])}
<h2>{L('Complaint causes (Pareto)')}</h2>{_img(pngs['causes'])}
{_table(['', L('Count'), L('Cumulative %')], [[c['cause'], c['count'], c['cumulative_pct']] for c in cur['causes']])}
<h2>{L('Top requests')}</h2>{_table(['', L('Count')], [list(r) for r in cur['top_requests']])}
<h2>{L('Backlog by building')}</h2>{_table(['', L('Count')], sorted([k, v] for k, v in cur['backlog']['building'].items()))}
<h2>{L('Backlog by age (days)')}</h2>{_table(['', L('Count')], [[k, cur['backlog']['age'].get(k, 0)] for k in ('0-1', '1-3', '3-7', '7+')])}
<h2>{L('Staff')}</h2>{_table([L('Staff'), L('Dispatched'), L('Returned'), L('Completed'), L('Followed up'), L('Avg rating')], staff)}
<h2>{L('Paid services')}</h2>{_table([L('Count'), L('Paid (fen)'), L('Unpaid'), L('Unpaid') + ' (fen)'],
        [[cur['paid']['count'], cur['paid']['amount_fen'], cur['paid']['awaiting'], cur['paid']['awaiting_fen']]])}
<h2>{L('Analysis')}</h2><p>{html.escape(analysis).replace(chr(10), "<br>")}</p>
<p>{L("Manager's sign-off")}: {html.escape(signed_by)}</p>
</body></html>"""


def render_pdf(report: dict, lang: str = "zh-Hans", analysis: str = "", signed_by: str = "",
               site_name: str = "") -> bytes:
    from weasyprint import HTML

    return HTML(string=report_html(report, lang, analysis, signed_by, site_name)).write_pdf()
