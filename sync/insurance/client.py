"""An HTTP client of the national medical-insurance platform behind the hospital's gateway interface.

``PlatformGateway(base_url, fixmedins_code=…, region=…)`` posts each message to
``{base_url}/{infno}`` in the platform's envelope (see :mod:`.wire`) with httpx:

* 1101 person info: ``mdtrt_cert_type``/``mdtrt_cert_no``/``card_sn`` -> ``baseinfo`` and
  ``insuinfo`` (insutype 310 employee, 390 resident; ``balc`` the account; ``psn_type``
  starting ``12`` or ``1102`` retired [assumption: the psn_type code list is regional]);
* 2301 fee details: ``feedetail`` (feedetl_sn, med_list_codg, pric 16,6, cnt 16,4,
  det_item_fee_sumamt 16,2) -> per line ``fulamt_ownpay_amt``, ``overlmt_amt``,
  ``preselfpay_amt``, ``inscp_scp_amt`` (the platform applies its catalogue: class, price cap,
  self-pay share);
* 2303 pre-settlement and 2304 settlement: ``mdtrt_id``, ``psn_no``, ``medfee_sumamt``,
  ``acct_used_flag`` -> ``setlinfo``;
* 2305 cancel a settlement: ``setl_id``, ``mdtrt_id``, ``psn_no``;
* 5203 settlement lookup, here by ``medins_setl_id`` (2304 stores the sender's message ID in
  that field) - used to learn what happened to a 2304 whose answer was lost.

``mdtrt_id`` is the inpatient number (the hospital registers the stay under it). A transport
failure or an HTTP error is :class:`GatewayUnavailable` (the caller treats the outcome as in
doubt and asks with :meth:`query`); ``infcode != 0`` is :class:`GatewayRejected` with the
platform's ``err_msg``. No answer is ever replaced by a local computation here.
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx

from pos.hospital.errors import GatewayRejected, GatewayUnavailable
from pos.hospital.gateway import CERT_SSC, FeeLine, PersonInfo, SettleResult
from pos.hospital.policy import SETL_FIELDS
from pos.ids import uuid7

from . import wire

__all__ = ["PlatformGateway", "INSUTYPE_SCHEME", "setlinfo_fen", "person_from_1101"]

log = logging.getLogger(__name__)

#: insutype -> our scheme (310 職工基本醫療保險, 390 城鄉居民基本醫療保險)
INSUTYPE_SCHEME = {"310": "employee", "390": "resident"}
SCHEME_INSUTYPE = {v: k for k, v in INSUTYPE_SCHEME.items()}


def setlinfo_fen(info: dict) -> dict:
    """The platform's setlinfo (yuan) as fen; ``pool_prop_selfpay`` (a 5,4 ratio) as permille."""
    out = {}
    for k in SETL_FIELDS:
        v = info.get(k, "0") if info.get(k) is not None else "0"
        out[k] = wire.permille(v, k) if k == "pool_prop_selfpay" else wire.fen(v, k)
    return out


def person_from_1101(out: dict) -> PersonInfo:
    """1101's output: ``baseinfo`` and ``insuinfo`` (a list, or one object in some deployments)."""
    base = out.get("baseinfo") or {}
    insu = out.get("insuinfo") or []
    if isinstance(insu, dict):
        insu = [insu]
    ins = next((i for i in insu if str(i.get("insutype")) in INSUTYPE_SCHEME), None) or {}
    scheme = INSUTYPE_SCHEME.get(str(ins.get("insutype")), "self_pay")
    psn_type = str(ins.get("psn_type", ""))
    return PersonInfo(member_id=str(base.get("psn_no", "")), name=base.get("psn_name", ""),
                      id_number=base.get("certno", ""), scheme=scheme, retiree=psn_type.startswith(("12", "1102")),
                      acct_balance_fen=wire.fen(ins.get("balc", "0"), "balc"),
                      region=ins.get("insuplc_admdvs") or ins.get("insu_admdvs", ""))


class PlatformGateway:
    def __init__(self, base_url: str, *, fixmedins_code: str, fixmedins_name: str = "", region: str = "",
                 opter: str = "kiosk", opter_name: str = "kiosk", opter_type: str = "2", timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.fixmedins_code, self.fixmedins_name, self.region = fixmedins_code, fixmedins_name, region
        self.opter, self.opter_name, self.opter_type = opter, opter_name, opter_type   # 2 = self-service terminal
        self.http = httpx.Client(timeout=timeout, transport=transport)
        self._people: dict[str, PersonInfo] = {}           # psn_no -> person (insutype for 2303/2304)
        self._setl: dict[str, dict] = {}                    # our msgid -> {setl_id, mdtrt_id, psn_no}

    def close(self) -> None:
        self.http.close()

    # -- the envelope ---------------------------------------------------------------------
    def _call(self, infno: str, data: dict, msgid: str | None = None) -> dict:
        msgid = msgid or str(uuid7())
        body = {"infno": infno, "msgid": msgid, "mdtrtarea_admvs": self.region, "insuplc_admdvs": self.region,
                "recer_sys_code": "ONESTOP", "dev_no": "", "dev_safe_info": "", "cainfo": "", "signtype": "",
                "infver": "V1.0", "opter_type": self.opter_type, "opter": self.opter, "opter_name": self.opter_name,
                "inf_time": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), "fixmedins_code": self.fixmedins_code,
                "fixmedins_name": self.fixmedins_name, "sign_no": "", "input": data}
        try:
            resp = self.http.post(f"{self.base_url}/{infno}", content=wire.dumps(body),
                                  headers={"Content-Type": "application/json; charset=utf-8"})
        except httpx.HTTPError as exc:
            log.warning("platform %s msgid=%s: %s", infno, msgid, exc)
            raise GatewayUnavailable(f"{infno}: the platform did not answer ({type(exc).__name__}: {exc})") from exc
        if resp.status_code != 200:
            raise GatewayUnavailable(f"{infno}: the platform answered HTTP {resp.status_code}")
        try:
            ans = wire.loads(resp.content)
        except ValueError as exc:
            raise GatewayUnavailable(f"{infno}: unreadable answer: {exc}") from exc
        if str(ans.get("infcode")) != "0":
            raise GatewayRejected(f"{infno}: {ans.get('err_msg') or 'refused'} (infcode {ans.get('infcode')})")
        if ans.get("inf_refmsgid") not in (None, "", msgid):
            raise GatewayUnavailable(f"{infno}: answer for another message {ans.get('inf_refmsgid')}")
        return ans.get("output") or {}

    # -- 1101 ------------------------------------------------------------------------------
    def person_info(self, cert_type: str, cert_no: str, card_sn: str = "") -> PersonInfo:
        if cert_type == CERT_SSC and not card_sn:
            raise GatewayRejected("1101: card_sn is required for a social-security card")
        out = self._call("1101", {"data": {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no,
                                           "card_sn": card_sn, "begntime": "", "psn_cert_type": "01",
                                           "certno": cert_no if cert_type == "02" else "", "psn_name": ""}})
        p = person_from_1101(out)
        self._people[p.member_id] = p
        return p

    # -- 2301 ------------------------------------------------------------------------------
    def upload_fees(self, msg_id: str, visit_no: str, member_id: str, lines: list[FeeLine]) -> list[dict]:
        details = []
        for fl in lines:
            ln = fl.line()
            details.append({"feedetl_sn": fl.ref, "mdtrt_id": visit_no, "psn_no": member_id, "med_type": "21",
                            "fee_ocur_time": f"{fl.service_date} 00:00:00", "med_list_codg": fl.fee_code,
                            "medins_list_codg": fl.fee_code, "det_item_fee_sumamt": wire.yuan(fl.amount_fen),
                            "cnt": wire.cnt(ln.qty_e4), "pric": wire.price(ln.price_uyuan),
                            "bilg_dept_codg": "", "hosp_appr_flag": "1"})
        out = self._call("2301", {"feedetail": details}, msg_id)
        res = []
        for r in out.get("result") or []:
            res.append({"ref": r["feedetl_sn"], "det_item_fee_sumamt": wire.fen(r["det_item_fee_sumamt"]),
                        "fulamt_ownpay_amt": wire.fen(r.get("fulamt_ownpay_amt", "0")),
                        "overlmt_amt": wire.fen(r.get("overlmt_amt", "0")),
                        "preselfpay_amt": wire.fen(r.get("preselfpay_amt", "0")),
                        "inscp_scp_amt": wire.fen(r.get("inscp_scp_amt", "0"))})
        return res

    # -- 2303 / 2304 -----------------------------------------------------------------------
    def _setl_input(self, visit_no: str, member_id: str, total_fen: int, acct_used: bool) -> dict:
        p = self._people.get(member_id)
        return {"data": {"psn_no": member_id, "mdtrt_cert_type": "02", "mdtrt_cert_no": p.id_number if p else "",
                         "medfee_sumamt": wire.yuan(total_fen), "psn_setlway": "01", "mdtrt_id": visit_no,
                         "acct_used_flag": "1" if acct_used else "0",
                         "insutype": SCHEME_INSUTYPE.get(p.scheme if p else "", ""), "mid_setl_flag": "0"}}

    def _result(self, msg_id: str, member_id: str, out: dict, source: str) -> SettleResult:
        info = out.get("setlinfo") or {}
        b = setlinfo_fen(info)
        return SettleResult(msg_id, info.get("setl_id", ""), member_id, b["medfee_sumamt"], b["fund_pay_sumamt"],
                            b["psn_part_amt"], b, acct_fen=b["acct_pay"], cash_fen=b["psn_cash_pay"], source=source)

    def pre_settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, *,
                   acct_used: bool = True) -> SettleResult:
        out = self._call("2303", self._setl_input(visit_no, member_id, total_fen, acct_used), msg_id)
        return self._result(msg_id, member_id, out, "platform:2303")

    def settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, *,
               acct_used: bool = True) -> SettleResult:
        out = self._call("2304", self._setl_input(visit_no, member_id, total_fen, acct_used), msg_id)
        res = self._result(msg_id, member_id, out, "platform:2304")
        self._setl[msg_id] = {"setl_id": res.setl_id, "mdtrt_id": visit_no, "psn_no": member_id}
        return res

    # -- 2305 / 5203 -----------------------------------------------------------------------
    def cancel_settlement(self, msg_id: str, original_msg_id: str) -> None:
        ref = self._setl.get(original_msg_id)
        if ref is None:
            found = self.query(original_msg_id)
            if found is None:
                raise GatewayRejected(f"2305: no settlement for message {original_msg_id}")
            if found.cancelled:
                return
            ref = self._setl[original_msg_id]
        self._call("2305", {"data": dict(ref)}, msg_id)

    def query(self, original_msg_id: str) -> SettleResult | None:
        try:
            out = self._call("5203", {"data": {"medins_setl_id": original_msg_id, "psn_no": "", "setl_id": "",
                                               "mdtrt_id": ""}})
        except GatewayRejected as exc:
            if "no settlement" in str(exc):
                return None
            raise
        info = out.get("setlinfo") or {}
        if not info:
            return None
        res = self._result(original_msg_id, info.get("psn_no", ""), out, "platform:5203")
        self._setl[original_msg_id] = {"setl_id": res.setl_id, "mdtrt_id": info.get("mdtrt_id", ""),
                                       "psn_no": info.get("psn_no", "")}
        return SettleResult(res.msg_id, res.setl_id, res.member_id, res.total_fen, res.pooled_fen, res.selfpay_fen,
                            res.breakdown, cancelled=info.get("refd_setl_flag") == "1", acct_fen=res.acct_fen,
                            cash_fen=res.cash_fen, source=res.source)
