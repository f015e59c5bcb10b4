"""A simulator of the platform's HTTP interface on a real socket (127.0.0.1, an ephemeral port).

It speaks the JSON of :mod:`.wire` for 1101, 2301, 2303, 2304, 2305 and 5203 and keeps its state
in a :class:`pos.hospital.gateway_sim.SimGateway` (members, fee details, settlements, the year's
figures), with the platform's own catalogue (``catalogue[code] = (class, price cap µ¥, self-pay
permille)``): a 2301 line's class and price cap come from there, not from the hospital.
``gateway.fail_next`` answers HTTP 503 before acting; ``gateway.lose_reply_next`` acts and then
drops the connection without an answer (the hospital's outcome-in-doubt case).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pos.hospital.errors import GatewayRejected, GatewayUnavailable
from pos.hospital.gateway import FeeLine
from pos.hospital.gateway_sim import SimGateway

from . import wire
from .client import SCHEME_INSUTYPE

__all__ = ["PlatformSimServer"]

log = logging.getLogger(__name__)

CLASS_CODES = {"甲": "01", "乙": "02", "丙": "03"}


class _Drop(Exception):
    """Acted, then the answer is lost."""


class PlatformSimServer:
    def __init__(self, gateway: SimGateway, catalogue: dict | None = None):
        self.gateway = gateway
        self.catalogue: dict[str, tuple[str, int | None, int | None]] = dict(catalogue or {})
        self.requests: list[dict] = []              # every envelope received, for the tests
        self._setl_msg: dict[str, str] = {}          # setl_id -> msgid
        self._visit: dict[str, tuple[str, str]] = {}  # msgid -> (mdtrt_id, psn_no)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet
                log.debug("platform sim: " + fmt, *args)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    status, ans = 200, server.handle(self.path.rsplit("/", 1)[-1], wire.loads(body))
                except _Drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                except GatewayUnavailable as exc:
                    status, ans = 503, {"infcode": -1, "err_msg": str(exc)}
                data = wire.dumps(ans)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/fsi/api"

    def start(self) -> "PlatformSimServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="platform-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- messages --------------------------------------------------------------------------
    def handle(self, infno: str, req: dict) -> dict:
        self.requests.append(req)
        now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        head = {"inf_refmsgid": req.get("msgid", ""), "refmsg_time": now, "respond_time": now}
        missing = [k for k in wire.ENVELOPE_KEYS if k not in req]
        if missing or req.get("infno") != infno:
            return dict(head, infcode=-1, err_msg=f"bad envelope: missing {missing} or infno {req.get('infno')}")
        fn = getattr(self, f"_m{infno}", None)
        if fn is None:
            return dict(head, infcode=-1, err_msg=f"unknown infno {infno}")
        try:
            out = fn(req["msgid"], req.get("input") or {})
        except GatewayRejected as exc:
            return dict(head, infcode=-1, err_msg=str(exc))
        except GatewayUnavailable as exc:
            if "reply lost" in str(exc):
                raise _Drop() from exc
            raise
        except (KeyError, ValueError) as exc:
            return dict(head, infcode=-1, err_msg=f"bad input: {exc}")
        return dict(head, infcode=0, err_msg="", output=out)

    def _m1101(self, msgid: str, inp: dict) -> dict:
        d = inp["data"]
        p = self.gateway.person_info(d["mdtrt_cert_type"], d["mdtrt_cert_no"], d.get("card_sn", ""))
        ins = []
        if p.scheme in SCHEME_INSUTYPE:
            ins.append({"balc": wire.yuan(p.acct_balance_fen), "insutype": SCHEME_INSUTYPE[p.scheme],
                        "psn_type": "1102" if p.retiree else "1101", "psn_insu_stas": "1",
                        "cvlserv_flag": "0", "insuplc_admdvs": p.region or "110000", "emp_name": ""})
        return {"baseinfo": {"psn_no": p.member_id, "psn_cert_type": "01", "certno": p.id_number,
                             "psn_name": p.name, "gend": "", "naty": "", "brdy": "", "age": ""},
                "insuinfo": ins, "idetinfo": []}

    def _m2301(self, msgid: str, inp: dict) -> dict:
        lines, psn = [], ""
        for r in inp["feedetail"]:
            code = r["med_list_codg"]
            if code not in self.catalogue:
                raise GatewayRejected(f"2301: {code} is not in the catalogue")
            cat, cap, prop = self.catalogue[code]
            q4, pr = wire.qty_e4(r["cnt"]), wire.uyuan(r["pric"])
            lines.append(FeeLine(r["feedetl_sn"], code, cat, wire.fen(r["det_item_fee_sumamt"]), q4 // 10,
                                 r["fee_ocur_time"][:10], pr, q4, cap, prop))
            visit, psn = r["mdtrt_id"], r["psn_no"]
        if not lines:
            return {"result": []}
        res = self.gateway.upload_fees(msgid, visit, psn, lines)
        out = []
        for fl, sp in zip(lines, res):
            cat, cap, prop = self.catalogue[fl.fee_code]
            out.append({"feedetl_sn": fl.ref, "det_item_fee_sumamt": wire.yuan(sp["det_item_fee_sumamt"]),
                        "cnt": wire.cnt(fl.qty_e4), "pric": wire.price(fl.price_uyuan),
                        "pric_uplmt_amt": wire.price(cap) if cap is not None else wire.price(0),
                        "selfpay_prop": wire.prop(prop or 0), "fulamt_ownpay_amt": wire.yuan(sp["fulamt_ownpay_amt"]),
                        "overlmt_amt": wire.yuan(sp["overlmt_amt"]), "preselfpay_amt": wire.yuan(sp["preselfpay_amt"]),
                        "inscp_scp_amt": wire.yuan(sp["inscp_scp_amt"]), "chrgitm_lv": CLASS_CODES[cat]})
        return {"result": out}

    @staticmethod
    def _setlinfo(res, visit: str, psn: str, cancelled: bool = False) -> dict:
        info = {k: (wire.prop(v) if k == "pool_prop_selfpay" else wire.yuan(v)) for k, v in res.breakdown.items()
                if isinstance(v, int)}
        info.update(setl_id=res.setl_id, mdtrt_id=visit, psn_no=psn, medins_setl_id=res.msg_id,
                    refd_setl_flag="1" if cancelled else "0")
        return info

    def _m2303(self, msgid: str, inp: dict) -> dict:
        d = inp["data"]
        res = self.gateway.pre_settle(msgid, d["mdtrt_id"], d["psn_no"], wire.fen(d["medfee_sumamt"]),
                                      acct_used=d.get("acct_used_flag", "1") == "1")
        return {"setlinfo": self._setlinfo(res, d["mdtrt_id"], d["psn_no"]), "setldetail": []}

    def _m2304(self, msgid: str, inp: dict) -> dict:
        d = inp["data"]
        self._visit[msgid] = (d["mdtrt_id"], d["psn_no"])
        try:
            res = self.gateway.settle(msgid, d["mdtrt_id"], d["psn_no"], wire.fen(d["medfee_sumamt"]),
                                      acct_used=d.get("acct_used_flag", "1") == "1")
        finally:
            got = self.gateway.settlements.get(msgid)
            if got is not None:
                self._setl_msg[got.setl_id] = msgid
        return {"setlinfo": self._setlinfo(res, d["mdtrt_id"], d["psn_no"]), "setldetail": []}

    def _m2305(self, msgid: str, inp: dict) -> dict:
        d = inp["data"]
        orig = self._setl_msg.get(d["setl_id"])
        if orig is None:
            raise GatewayRejected(f"2305: no settlement {d['setl_id']}")
        self.gateway.cancel_settlement(msgid, orig)
        res = self.gateway.settlements[orig]
        return {"setlinfo": self._setlinfo(res, d["mdtrt_id"], d["psn_no"], cancelled=True)}

    def _m5203(self, msgid: str, inp: dict) -> dict:
        d = inp["data"]
        orig = d.get("medins_setl_id") or self._setl_msg.get(d.get("setl_id", ""), "")
        res = self.gateway.query(orig)
        if res is None:
            raise GatewayRejected(f"5203: no settlement for {orig}")
        visit, psn = self._visit.get(orig, ("", res.member_id))
        return {"setlinfo": self._setlinfo(res, visit, psn, cancelled=res.cancelled)}
