"""The monthly report's page on the central server's IT site, through real HTTP (the admin signed
in on the login form): a month picked, the figures (each checked against the independent SQL of
tests/test_desk_report), the five charts as PNG (decoded by Pillow), the month-over-month
comparison, the three languages, the written analysis and the manager's sign-off (stored with who
and when; the signed PDF carries the analysis and the sign-off; editing after it refused)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime
from pathlib import Path

import pikepdf
import pytest
from lxml import html as lxml_html
from PIL import Image

from pos.desk.report import month_bounds

from .desk_month import TZ, Month
from .desk_support import Caller, admin_browser
from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture
from .test_desk_report import independent, sql

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url, rate=1000.0, burst=1000, task_interval=0)
    yield s
    s.stop()


def pdf_text(data: bytes) -> str:
    """The text a PDF shows, read back through each font's ToUnicode map (pikepdf only: no code of
    ours wrote these bytes; WeasyPrint did)."""
    out = []
    with pikepdf.open(io.BytesIO(data)) as doc:
        for page in doc.pages:
            maps = {}
            for name, font in (page.Resources.get("/Font") or {}).items():
                cmap = {}
                if "/ToUnicode" in font:
                    text = font.ToUnicode.read_bytes().decode("latin-1")
                    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
                        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                            cmap[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be", "replace")
                    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
                        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                            base = int(dst, 16)
                            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                                cmap[code] = chr(base + i)
                maps[str(name)] = (cmap, 2 if str(font.get("/Subtype")) == "/Type0" else 1)
            current = ({}, 1)
            for operands, op in pikepdf.parse_content_stream(page):
                if str(op) == "Tf":
                    current = maps.get(str(operands[0]), ({}, 1))
                elif str(op) in ("Tj", "TJ"):
                    parts = operands[0] if str(op) == "TJ" else [operands[0]]
                    for part in parts:
                        if isinstance(part, pikepdf.String):
                            raw, (cmap, width) = bytes(part), current
                            out += [cmap.get(int.from_bytes(raw[i:i + width], "big"), "")
                                    for i in range(0, len(raw), width)]
    return "".join(out)


def text_of(doc, id_: str) -> str:
    (el,) = doc.xpath(f'//*[@id="{id_}"]')
    return el.text_content().strip()


def test_the_report_page_figures_charts_languages_analysis_and_sign_off(server, tmp_path, artifacts):
    mon, rc = Caller(server.url, "MON1"), Caller(server.url, "RC1")
    store = new_kiosk(tmp_path, "DESK1", server.url)
    Month(store, mon, rc, seed=5, per_day=6).run(datetime(2026, 10, 20, tzinfo=TZ), 40, datetime(2026, 12, 1, 6,
                                                                                                  tzinfo=TZ))
    b = server.backend
    anon = admin_browser(server.url)
    anon.cookies.clear()
    r = anon.get("/admin/packs/desk/report?month=2026-11&lang=en")
    assert r.status_code == 401 and "token" in r.text.lower()              # behind the admin's login
    web = admin_browser(server.url)

    r = web.get("/admin/packs/desk/report?month=2026-11&lang=en")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    doc = lxml_html.fromstring(r.text)
    x = independent(b, *month_bounds("2026-11", "Asia/Shanghai"))
    xp = independent(b, *month_bounds("2026-10", "Asia/Shanghai"))
    assert int(text_of(doc, "fig-received")) == x["received"] > 100
    assert int(text_of(doc, "fig-overdue")) == x["overdue"]
    assert int(text_of(doc, "fig-reopened")) == x["reopened"]
    assert int(text_of(doc, "fig-qc-failed")) == x["qc_failed"]
    assert int(text_of(doc, "fig-backlog")) == sum(x["backlog_building"].values())
    assert text_of(doc, "fig-paid") == f"{x['paid'][0]} / ¥{x['paid'][1] // 100:,}.{x['paid'][1] % 100:02d}"
    cells = [td.text_content().strip() for td in doc.xpath('//tr[@id="change-received"]/td')]
    assert cells[1:3] == [str(x["received"]), str(xp["received"])]
    assert cells[3].startswith(f"{x['received'] - xp['received']:+d}")
    rows = {tr[0].text_content(): int(tr[1].text_content()) for tr in doc.xpath('//table[@id="channel-kind"]/tr')[1:]}
    assert rows == x["channel_kind"]
    causes = [(tr[0].text_content(), int(tr[1].text_content())) for tr in doc.xpath('//table[@id="causes"]/tr')[1:]]
    assert causes == [(c or "-", n) for c, n in x["causes"]]

    # the five charts, each a PNG the page links to
    srcs = [img.get("src") for img in doc.xpath('//img[@class="chart"]')]
    assert len(srcs) == 5
    for src in srcs:
        png = web.get(src)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(png.content)) as im:
            assert im.format == "PNG" and im.width > 200 and im.height > 100
    assert web.get("/admin/packs/desk/report/chart/nosuch.png?month=2026-11&lang=en").status_code == 404
    bad = web.get("/admin/packs/desk/report?month=2026-13&lang=en")
    assert bad.status_code == 422 and "YYYY-MM" in bad.text

    # three languages, the switch keeps the month
    for code, word in (("zh-Hans", "客户服务信息统计分析汇总表"), ("zh-Hant", "客戶服務信息統計分析匯總表"),
                       ("en", "Monthly service statistics and analysis")):
        page = lxml_html.fromstring(web.get(f"/admin/packs/desk/report?month=2026-11&lang={code}").text)
        assert word in page.xpath("//h1")[0].text_content()
        assert page.xpath(f'//a[@id="lang-{code}"]')[0].get("href").startswith(
            "/admin/packs/desk/report?month=2026-11")
        assert text_of(page, "fig-received") == str(x["received"])

    # the analysis, then the sign-off
    r = web.post("/admin/packs/desk/report/sign?lang=en", data={"month": "2026-11", "signed_by": "张经理"})
    assert r.status_code == 422 and "Write the analysis" in r.text              # nothing to sign yet
    text = "报修以水管漏水为主；噪音投诉集中在装修。"
    r = web.post("/admin/packs/desk/report/analysis?lang=zh-Hans", data={"month": "2026-11", "analysis": text,
                                                                          "by": "客服主管"})
    assert r.status_code == 303
    page = web.get(r.headers["location"])
    assert "分析已保存" in page.text and text in page.text
    r = web.post("/admin/packs/desk/report/sign?lang=en", data={"month": "2026-11", "signed_by": ""})
    assert r.status_code == 422 and "Give the manager" in r.text
    r = web.post("/admin/packs/desk/report/sign?lang=en", data={"month": "2026-11", "signed_by": "张经理"})
    assert r.status_code == 303
    doc = lxml_html.fromstring(web.get(r.headers["location"]).text)
    assert text_of(doc, "signed-by") == "张经理" and text_of(doc, "analysis-text") == text
    (signed_by, signed_at, sha, report_json), = sql(b, "SELECT signed_by, signed_at, sha256, report_json FROM "
                                                       "desk_reports WHERE month = '2026-11'")
    assert signed_by == "张经理" and signed_at.endswith("Z") and f'"received": {x["received"]}' in report_json
    local = datetime.fromisoformat(signed_at.replace("Z", "+00:00")).astimezone(TZ)
    assert text_of(doc, "signed-at") == local.strftime("%m-%d %H:%M:%S")

    pdf = web.get("/admin/packs/desk/report/pdf?month=2026-11&lang=en")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == sha
    (artifacts / "desk-report-page-signed-2026-11.pdf").write_bytes(pdf.content)
    shown = pdf_text(pdf.content)
    assert text in shown and "张经理" in shown and local.strftime("%Y-%m-%d %H:%M") in shown

    # after the sign-off: the analysis and a second sign-off refused; the figures stay as signed
    r = web.post("/admin/packs/desk/report/analysis?lang=en", data={"month": "2026-11", "analysis": "changed"})
    assert r.status_code == 409 and "can no longer be changed" in r.text
    r = web.post("/admin/packs/desk/report/sign?lang=en", data={"month": "2026-11", "signed_by": "someone"})
    assert r.status_code == 409
    assert sql(b, "SELECT analysis, signed_by FROM desk_reports") == [(text, "张经理")]
    assert web.get("/admin/packs/desk/report/pdf?month=2026-11").content == pdf.content
    # another month is unaffected: unsigned, its own figures
    doc = lxml_html.fromstring(web.get("/admin/packs/desk/report?month=2026-10&lang=en").text)
    assert text_of(doc, "fig-received") == str(xp["received"]) and text_of(doc, "signoff") == "Not signed yet"
    for c in (web, anon, mon, rc):
        c.close()


def test_the_report_words_are_in_the_right_script_and_complete():
    """Every word of the report, its PDF and its pages has the three languages; no Traditional-only
    character in zh-Hans and no Simplified-only one in zh-Hant (hanzidentifier, an independent
    judge on CC-CEDICT's lists)."""
    import hanzidentifier as h

    from pos.desk.report_pdf import _T, T
    assert h.identify("報表") == h.TRADITIONAL and h.identify("报表") == h.SIMPLIFIED
    wrong = [(en, hans, hant) for en, (hans, hant) in _T.items()
             if h.identify(hans) in (h.TRADITIONAL, h.MIXED) or h.identify(hant) in (h.SIMPLIFIED, h.MIXED)]
    assert wrong == []
    used = set()
    for path in ("pos/desk/pages.py", "pos/desk/templates/desk_report.html", "pos/desk/templates/desk_intake.html",
                 "pos/desk/templates/_desk_header.html"):
        text = (ROOT / path).read_text(encoding="utf-8")
        used |= set(re.findall(r'\bL\("([^"]+)"\)', text)) | set(re.findall(r'T\("([^"]+)", page\.lang\)', text))
    assert used and used - set(_T) == set()                       # no word left in English only
    assert T("Sign off", "zh-Hant") == "簽字確認" and T("Sign off", "en") == "Sign off"
