"""Demo data for the hospital (a mainland site: names in Simplified Chinese): wards and beds, a fee catalogue, insured people in the simulated
platform, admission notices for the demo card holders, and a few days of charges.

The card holders match ``assets/cards/*.toml`` (王喆, 张𠀀) plus 张三 and 李堃, so the kiosk demo
finds a notice for whichever card is inserted. ``seed(service)`` is idempotent per store.
"""

from __future__ import annotations

import datetime as dt

from .gateway import PersonInfo
from .records import IdentityRecord, Payment

__all__ = ["WARDS", "FEES", "PEOPLE", "NAMES", "localized", "seed", "seed_site", "admit_demo_patient"]

#: code, name, building, floor, beds
WARDS = [
    ("CARD", "心内科病区", "住院部A栋", 5, [f"{i:02d}" for i in range(1, 21)]),
    ("SURG", "普外科病区", "住院部A栋", 7, [f"{i:02d}" for i in range(1, 21)]),
    ("PEDS", "儿科病区", "住院部B栋", 3, [f"{i:02d}" for i in range(1, 11)]),
]

#: code, name, spec, unit, category, unit price fen
FEES = [
    ("B001", "床位费(三人间)", "", "日", "甲", 4500),
    ("N001", "一级护理", "", "日", "甲", 2800),
    ("L010", "血常规", "五分类", "次", "甲", 2500),
    ("L020", "肝功能", "12项", "次", "乙", 9800),
    ("I001", "心脏彩超", "", "次", "乙", 28000),
    ("D101", "阿司匹林肠溶片", "100mg×30片", "盒", "甲", 1580),
    ("D205", "阿托伐他汀钙片", "20mg×7片", "盒", "乙", 3350),
    ("D901", "进口营养液", "500ml", "瓶", "丙", 18600),
    ("M001", "一次性输液器", "", "套", "丙", 350),
]

#: the demo's texts in each language: kind -> the stored (zh-Hans) text -> {language: text}.
#: The store keeps the site's language (zh-Hans, on paper too); screens in another language show
#: :func:`localized`. People's names are not translated.
NAMES: dict[str, dict[str, dict[str, str]]] = {
    "ward": {
        "心内科病区": {"zh-Hans": "心内科病区", "zh-Hant": "心內科病區", "en": "Cardiology ward"},
        "普外科病区": {"zh-Hans": "普外科病区", "zh-Hant": "普外科病區", "en": "General surgery ward"},
        "儿科病区": {"zh-Hans": "儿科病区", "zh-Hant": "兒科病區", "en": "Paediatrics ward"},
    },
    "building": {
        "住院部A栋": {"zh-Hans": "住院部A栋", "zh-Hant": "住院部A棟", "en": "Inpatient building A"},
        "住院部B栋": {"zh-Hans": "住院部B栋", "zh-Hant": "住院部B棟", "en": "Inpatient building B"},
    },
    "fee": {
        "床位费(三人间)": {"zh-Hans": "床位费(三人间)", "zh-Hant": "床位費(三人間)", "en": "Bed (three-bed room)"},
        "一级护理": {"zh-Hans": "一级护理", "zh-Hant": "一級護理", "en": "Level 1 nursing care"},
        "血常规": {"zh-Hans": "血常规", "zh-Hant": "血常規", "en": "Complete blood count"},
        "肝功能": {"zh-Hans": "肝功能", "zh-Hant": "肝功能", "en": "Liver function tests"},
        "心脏彩超": {"zh-Hans": "心脏彩超", "zh-Hant": "心臟彩超", "en": "Echocardiography"},
        "阿司匹林肠溶片": {"zh-Hans": "阿司匹林肠溶片", "zh-Hant": "阿司匹林腸溶片", "en": "Aspirin enteric-coated tablets"},
        "阿托伐他汀钙片": {"zh-Hans": "阿托伐他汀钙片", "zh-Hant": "阿托伐他汀鈣片", "en": "Atorvastatin calcium tablets"},
        "进口营养液": {"zh-Hans": "进口营养液", "zh-Hant": "進口營養液", "en": "Imported nutrition solution"},
        "一次性输液器": {"zh-Hans": "一次性输液器", "zh-Hant": "一次性輸液器", "en": "Disposable infusion set"},
    },
    "spec": {
        "五分类": {"zh-Hans": "五分类", "zh-Hant": "五分類", "en": "5-part differential"},
        "12项": {"zh-Hans": "12项", "zh-Hant": "12項", "en": "12 tests"},
        "100mg×30片": {"zh-Hans": "100mg×30片", "zh-Hant": "100mg×30片", "en": "100 mg × 30 tablets"},
        "20mg×7片": {"zh-Hans": "20mg×7片", "zh-Hant": "20mg×7片", "en": "20 mg × 7 tablets"},
        "500ml": {"zh-Hans": "500ml", "zh-Hant": "500ml", "en": "500 ml"},
    },
    "unit": {
        "日": {"zh-Hans": "日", "zh-Hant": "日", "en": "day"},
        "次": {"zh-Hans": "次", "zh-Hant": "次", "en": "test"},
        "盒": {"zh-Hans": "盒", "zh-Hant": "盒", "en": "box"},
        "瓶": {"zh-Hans": "瓶", "zh-Hant": "瓶", "en": "bottle"},
        "套": {"zh-Hans": "套", "zh-Hant": "套", "en": "set"},
    },
}


def localized(kind: str, text: str, lang: str) -> str:
    """The demo data's ``text`` (as stored) in ``lang``; text it has no translation of stays as it is."""
    return NAMES.get(kind, {}).get(text, {}).get(lang, text)


#: name, sex, birth, id number, scheme, member id, ssc card number, e-voucher token, ward, deposit fen
PEOPLE = [
    ("张三", "M", "1980-05-05", "11010119800505001X", "employee", "E1100001", "", "EV-ZHANGSAN-0001", "CARD", 300000),
    ("王喆", "F", "1990-01-01", "440305199001010026", "resident", "R4403001", "B76543210", "", "SURG", 500000),
    ("李堃", "M", "1962-08-18", "330106196208180037", "rural", "N3301001", "", "EV-LIKUN-0001", "CARD", 200000),
    ("张𠀀", "M", "1949-12-31", "11010519491231002X", "resident", "R1101001", "A01234567", "", "PEDS", 100000),
]


def seed_site(site) -> list[dict]:
    """The pack's demo hook (``Pack.demo``): seed the demo hospital of ``site`` (a pos.site.Site)."""
    return seed(site.hospital, site.gateway)


def seed(service, gateway=None) -> list[dict]:
    """Wards, beds, fees, members (if a simulated gateway is given) and one open notice per person."""
    conn = service.conn
    if conn.execute("SELECT count(*) FROM hosp_wards").fetchone()[0] == 0:
        for code, name, building, floor, beds in WARDS:
            service.add_ward(code, name, floor, building, beds)
        for code, name, spec, unit, cat, _price in FEES:
            service.add_fee_item(code, name, cat, spec, unit)
    if gateway is not None and hasattr(gateway, "add_member"):
        for name, _sex, _b, idno, scheme, member, card, token, _w, _d in PEOPLE:
            gateway.add_member(PersonInfo(member, name, idno, scheme), card_number=card, token=token)
    notices = []
    for name, _sex, _b, idno, _s, _m, _c, _t, ward, deposit in PEOPLE:
        if conn.execute("SELECT 1 FROM hosp_notices WHERE id_number = ? AND state = 'open'", (idno,)).fetchone():
            continue
        notices.append(service.record_notice(patient_name=name, id_number=idno, ward_code=ward,
                                             suggested_deposit_fen=deposit, diagnosis="示范病例",
                                             doctor="门诊医师", source="his"))
    return notices


def admit_demo_patient(service, person: int = 1, days: int = 3, start: dt.date | None = None) -> str:
    """Admit ``PEOPLE[person]`` all the way to the ward, with ``days`` days of charges. Returns the inpatient no."""
    name, sex, birth, idno, scheme, member, card, token, ward, deposit = PEOPLE[person]
    rec = IdentityRecord("ssc" if card else "cn_id", name, idno, card_number=card, scheme=scheme,
                         member_id=member, sex=sex, birth_date=birth)
    notice = service.find_notice_for_identity(rec)
    adm = service.register_admission(notice["notice_no"], rec)
    no = adm["inpatient_no"]
    service.record_deposit(no, Payment(deposit, "cash"))
    service.print_wristband(no)
    service.assign_bed(no, service.free_beds(ward)[0])
    service.confirm_identity(no, "护士长")
    start = start or dt.date.today() - dt.timedelta(days=days - 1)
    prices = {code: price for code, _n, _s, _u, _c, price in FEES}
    for d in range(days):
        day = (start + dt.timedelta(days=d)).isoformat()
        for code, qty in (("B001", 1000), ("N001", 1000), ("D101", 1000), ("D205", 2000)):
            service.add_charge(no, code, qty, unit_price_fen=prices[code], service_date=day, department=ward)
        if d == 0:
            for code in ("L010", "L020", "I001", "D901"):
                service.add_charge(no, code, 1000, unit_price_fen=prices[code], service_date=day, department=ward)
    return no
