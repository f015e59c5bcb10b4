"""Helpers for the HIS interface tests: HL7 v2.5 messages as a HIS would send them (ER7 text written
here, not by our builder), python-hl7's own ``mllp_send`` as the independent sender, and a small
MLLP listener standing in for the HIS's inbound port (it answers with python-hl7's ``create_ack``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import hl7

BIN = Path(sys.executable).parent
IDNO = "11010119800505001X"          # demo.PEOPLE[0], 张三


def msh(control: str, typ: str, when: str = "20261207093000") -> str:
    return f"MSH|^~\\&|HIS|DEMO-H1|ONESTOP|DEMO-H1|{when}||{typ}|{control}|P|2.5|||||CHN|UNICODE UTF-8"


def a05(control: str, visit: str, ward: str = "NK3", idno: str = IDNO, name: str = "张^三") -> str:
    return "\n".join([msh(control, "ADT^A05^ADT_A05"), "EVN|A05|20261207093000",
                      f"PID|1||P0001^^^HIS^PI~{idno}^^^CHN^NI||{name}||19800505|M",
                      f"PV1|1|P|{ward}^^^DEMO-H1||||D01^李^医生||||||||||||{visit}",
                      "ZDP|2000.00"])


def adt(control: str, event: str, visit: str, ward: str = "NK3", bed: str = "", extra: str = "",
        when: str = "20261207100000") -> str:
    loc = f"{ward}^^{bed}^DEMO-H1" if bed else f"{ward}^^^DEMO-H1"
    segs = [msh(control, f"ADT^{event}^ADT_A01" if event != "A03" else "ADT^A03^ADT_A03"),
            f"EVN|{event}|{when}", f"PID|1||P0001^^^HIS^PI~{IDNO}^^^CHN^NI||张^三||19800505|M",
            f"PV1|1|I|{loc}||||D01^李^医生||||||||||||{visit}{extra}"]
    return "\n".join(segs)


def dft(control: str, visit: str, lines: list[tuple]) -> str:
    """lines: (transaction id, HIS code, quantity, unit price yuan)."""
    segs = [msh(control, "DFT^P03^DFT_P03"), "EVN|P03|20261207110000",
            f"PID|1||P0001^^^HIS^PI~{IDNO}^^^CHN^NI||张^三", f"PV1|1|I|NK3^^^DEMO-H1||||||||||||||||{visit}"]
    for n, (tid, code, qty, price) in enumerate(lines, 1):
        segs.append(f"FT1|{n}|{tid}||20261207110000||CG|{code}^^HIS|||{qty}||{price}^CNY|NK3")
    return "\n".join(segs)


def mllp_send(port: int, *messages: str) -> list[hl7.Message]:
    """Send with python-hl7's ``mllp_send`` (a subprocess, its own MLLP client); its printed ACKs, parsed."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".hl7", delete=False, encoding="utf-8") as f:
        f.write("\n".join(messages) + "\n")
    out = subprocess.run([str(BIN / "mllp_send"), "--loose", "-f", f.name, "-p", str(port), "127.0.0.1"],
                         capture_output=True, timeout=60)
    Path(f.name).unlink()
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode("utf-8")
    start = "MSH|^~\\&|"
    acks = [hl7.parse((start + m).strip("\r\n")) for m in text.split(start)[1:]]
    assert len(acks) == len(messages), text
    return acks


def code(ack: hl7.Message) -> str:
    return str(ack.segment("MSA")[1])


def text(ack: hl7.Message) -> str:
    return str(ack.segment("MSA")[3]) if len(ack.segment("MSA")) > 3 else ""


class HisListener:
    """The HIS's inbound port: takes MLLP frames, keeps them, answers AA (or ``answer``)."""

    def __init__(self, answer: str = "AA"):
        self.answer, self.received = answer, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while b"\x1c\x0d" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                if b"\x1c\x0d" not in buf:
                    continue
                body = buf[buf.index(b"\x0b") + 1:buf.index(b"\x1c\x0d")].decode("utf-8")
                self.received.append(body)
                ack = hl7.parse(body).create_ack(self.answer, message_id=f"HISACK{len(self.received)}")
                conn.sendall(b"\x0b" + str(ack).encode("utf-8") + b"\x1c\x0d")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)        # wakes the accept() so the port really closes
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def check_in(backend, visit: str, n: int = 1, device: str = "KT") -> str:
    """What a kiosk's check-in for the HIS notice ``visit`` sends the server: its
    ``hospital.admission.registered`` command, through the server's ingest (the push path less
    HTTP and signing, which tests/test_his_stay.py drives for real). Returns the inpatient number."""
    import uuid

    from pos.ids import utcnow_iso
    from sync.server import service
    no = f"ZY{device}-{n:06d}"
    kind = "hospital.admission.registered"
    payload = service.validate(kind, {"inpatient_no": no, "notice_no": visit, "patient_uid": str(uuid.uuid4()),
                                      "ward_code": "CARD", "at": utcnow_iso()}, device)
    service.ingest(backend, device, [{"command_id": f"{device}-C{n:08d}", "device_id": device, "device_seq": n,
                                      "created_at": utcnow_iso(), "kind": kind, "payload": payload}], {})
    return no
