"""From the hospital model to printed documents: fills the plain input records of
:mod:`pos.documents` from the store and sends the layouts through the print journal.

``DocumentPrinter(hospital, journal, config)`` is what the kiosk and the counter call; every method
returns the journal's :class:`~pos.printing.PrintOutcome` (it never raises for a printer fault:
the outcome carries the message for the person and the line for the technician).
"""

from __future__ import annotations

import datetime as dt

from pos.documents import inputs as doc
from pos.documents.common import age_text, local_time
from pos.documents.fee_list import daily_fee_list
from pos.documents.receipt import deposit_receipt
from pos.documents.service import where_to_go
from pos.documents.settlement import settlement_list
from pos.documents.wristband import wristband
from pos.ids import utcnow_iso

from ..money import mul_div_round
from ..rows import row
from .ledger import category_totals, ledger_sums
from .policy import fmt_price_uyuan, fmt_qty_e4

__all__ = ["DocumentPrinter"]


class DocumentPrinter:
    def __init__(self, hospital, journal, config, lang: str = "zh-Hans"):
        self.h = hospital
        self.journal = journal
        self.config = config
        self.lang = lang if lang in ("zh-Hans", "zh-Hant") else "zh-Hans"

    @property
    def site(self) -> doc.Site:
        return doc.Site.from_config(self.config, self.lang)

    # -- data ---------------------------------------------------------------------------
    def _adm(self, inpatient_no: str) -> tuple[dict, dict, dict]:
        a = self.h.admission(inpatient_no)
        p = row(self.h.conn, "SELECT * FROM hosp_patients WHERE id = ?", (a["patient_id"],))
        w = row(self.h.conn, "SELECT * FROM hosp_wards WHERE code = ?", (a["ward_code"],))
        return a, p, w

    def _bed(self, a: dict) -> str:
        if not a.get("bed_id"):
            return ""
        b = row(self.h.conn, "SELECT bed_no FROM hosp_beds WHERE id = ?", (a["bed_id"],))
        return b["bed_no"] if b else ""

    def receipt_data(self, receipt_no: str, operator_id: str) -> doc.DepositReceiptData:
        r = row(self.h.conn, "SELECT r.*, l.method, l.reference, l.masked_pan, l.created_at AS paid_at "
                             "FROM hosp_receipts r JOIN hosp_ledger l ON l.id = r.ledger_id WHERE r.receipt_no = ?",
                (receipt_no,))
        a = row(self.h.conn, "SELECT * FROM hosp_admissions WHERE id = ?", (r["admission_id"],))
        _a, p, w = self._adm(a["inpatient_no"])
        return doc.DepositReceiptData(
            receipt_no=receipt_no, patient_name=p["name"], inpatient_no=a["inpatient_no"],
            amount_fen=r["amount_fen"], method=r["method"] if r["method"] in doc.PAYMENT_METHODS else "card",
            operator_id=operator_id, paid_at=r["paid_at"], card_masked=r["masked_pan"] or "",
            terminal_ref=r["reference"] or "", ward=f"{w['name']} {w['building']}{w['floor']}F",
            voided=self._voided(r))

    def _voided(self, r: dict) -> str:
        if r["state"] != "voided":
            return ""
        rev = row(self.h.conn, "SELECT supervisor, reason FROM hosp_reversals WHERE receipt_no = ? AND state = 'done'",
                  (r["receipt_no"],))
        return f"{rev['supervisor']} / {rev['reason']}" if rev else "退回原卡"

    def wristband_data(self, inpatient_no: str) -> doc.WristbandData:
        a, p, w = self._adm(inpatient_no)
        return doc.WristbandData(name=p["name"], sex=p["sex"] or "", age=age_text(p["birth_date"], dt.date.today()),
                                 inpatient_no=inpatient_no, ward=w["name"], bed=self._bed(a),
                                 admitted_on=local_time(a["admitted_at"], self.site.timezone)[:10])

    def daily_list_data(self, inpatient_no: str, day: str | None = None,
                        prompt: bool = False) -> doc.DailyFeeListData:
        """``prompt``: print the top-up prompt under the balance when the balance is low."""
        dl = self.h.daily_list(inpatient_no, day)
        a, _p, w = self._adm(inpatient_no)
        # exact quantity and price on paper, so that quantity × price gives the printed amount
        # (rounded half away from zero to the fen); ``qty`` keeps a whole number for old readers
        items = []
        for i in dl.items:
            q4 = i.qty_e4 if i.qty_e4 is not None else i.qty_milli * 10
            price = i.price_uyuan if i.price_uyuan is not None else i.unit_price_fen * 10_000
            items.append(doc.FeeItem(name=i.name, spec=i.spec, unit_price_fen=i.unit_price_fen,
                                     qty=mul_div_round(q4, 1, 10_000) or (1 if q4 > 0 else -1),
                                     category=i.category, amount_fen=i.amount_fen, qty_text=fmt_qty_e4(q4),
                                     price_text=fmt_price_uyuan(price)))
        items = tuple(items)
        return doc.DailyFeeListData(patient_name=dl.patient_name, inpatient_no=inpatient_no, ward=w["name"],
                                    bed=self._bed(a), days=(doc.FeeDay(dl.day, items),),
                                    deposits_fen=dl.deposits_fen, printed_at=utcnow_iso(),
                                    stay_before_fen=dl.running_total_fen - dl.day_total_fen,
                                    prompt=dl.prompt if prompt else "")

    def settlement_data(self, inpatient_no: str, operator_id: str) -> doc.SettlementData:
        a, p, _w = self._adm(inpatient_no)
        st = row(self.h.conn, "SELECT * FROM hosp_settlements WHERE admission_id = ? AND state = 'recorded'",
                 (a["id"],))
        sums = ledger_sums(self.h.conn, a["id"])
        # only the paper receipts the cashier actually took back; deposits only (what was collected
        # for a shortfall is the "amount due" the list shows, not a deposit). A deposit reversed or
        # refunded whole during the stay was voided, and is listed as such.
        def receipts_in(state):
            return tuple(r[0] for r in self.h.conn.execute(
                "SELECT receipt_no FROM hosp_receipts WHERE admission_id = ? AND kind = 'deposit' "
                "AND state = ? ORDER BY id", (a["id"], state)))
        in_stay = self.h.conn.execute(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM hosp_ledger WHERE admission_id = ? AND kind = 'refund' "
            "AND settlement_id IS NULL", (a["id"],)).fetchone()[0]
        return doc.SettlementData(
            settlement_no=st["settlement_no"], patient_name=p["name"], inpatient_no=inpatient_no,
            admitted_on=local_time(a["admitted_at"], self.site.timezone)[:10],
            discharged_on=local_time(a["discharged_at"] or utcnow_iso(), self.site.timezone)[:10],
            totals_by_category=category_totals(self.h.conn, a["id"]),
            pooled_fen=st["pooled_fen"] or 0, deposits_fen=sums["deposit"], refunded_fen=in_stay,
            acct_fen=st["acct_fen"] or 0, receipts_taken_back=receipts_in("taken_back"),
            receipts_voided=receipts_in("voided"), settled_at=st["completed_at"] or utcnow_iso(),
            operator_id=operator_id)

    # -- printing -----------------------------------------------------------------------
    def deposit_receipt(self, receipt_no: str, operator_id: str):
        return self.journal.print("deposit_receipt", deposit_receipt(self.site, self.receipt_data(receipt_no, operator_id)),
                                  "receipt_printer", ref=receipt_no)

    def wristband(self, inpatient_no: str):
        """Record the band as printed (the admission's step; a reprint is not one), then print it."""
        self.h.print_wristband(inpatient_no)
        return self.journal.print("wristband", wristband(self.site, self.wristband_data(inpatient_no)),
                                  "label_printer", ref=inpatient_no)

    def daily_list(self, inpatient_no: str, day: str | None = None, prompt: bool = False):
        return self.journal.print("daily_fee_list",
                                  daily_fee_list(self.site, self.daily_list_data(inpatient_no, day, prompt)),
                                  "receipt_printer", ref=inpatient_no)

    def ward_daily_lists(self, ward_code: str, day: str | None = None) -> list[tuple[str, bool, object]]:
        """H-A5 at the station: today's list for every patient in a bed of the ward, low balances
        first (with the top-up prompt on the list), each recorded as given
        (``hospital.daily_list.printed``, which the counter sees) once it is on paper. Returns
        ``(inpatient_no, low_balance, PrintOutcome)`` in print order."""
        lists = [self.h.daily_list(no, day) for no, in self.h.conn.execute(
            "SELECT a.inpatient_no FROM hosp_admissions a JOIN hosp_beds b ON b.id = a.bed_id "
            "WHERE b.ward_code = ? AND a.state != 'discharged' ORDER BY b.bed_no", (ward_code,))]
        lists.sort(key=lambda dl: not dl.low_balance)          # stable: bed order within each group
        out = []
        for dl in lists:
            outcome = self.daily_list(dl.inpatient_no, dl.day, prompt=True)
            if outcome.ok:
                self.h.print_daily_list(dl.inpatient_no, dl.day)
            out.append((dl.inpatient_no, dl.low_balance, outcome))
        return out

    def settlement(self, inpatient_no: str, operator_id: str):
        """Record the settlement list as printed (the discharge's step; reprints allowed), then print it."""
        self.h.print_settlement_list(inpatient_no)
        return self.journal.print("settlement_list",
                                  settlement_list(self.site, self.settlement_data(inpatient_no, operator_id)),
                                  "receipt_printer", ref=inpatient_no)

    def slip(self, message: str, message_en: str, reference: str = "", headline: str = ""):
        data = doc.WhereToGoData(message=message, message_en=message_en,
                                 window=str(self.config.get("site", "counter_window")), reference=reference,
                                 printed_at=utcnow_iso(), headline=headline)
        return self.journal.print("where_to_go", where_to_go(self.site, data), "receipt_printer", ref=reference)
