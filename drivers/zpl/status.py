"""ZPL host status (``~HS``): the query and the decoding of its three answer strings (no I/O).

Each string is framed STX ... ETX CR LF. String 1 field 2 is the paper-out flag, field 3 the pause
flag; string 2 field 3 is the head-up (cover open) flag.
"""

from __future__ import annotations

__all__ = ["HOST_STATUS", "decode_host_status", "encode_host_status", "ANSWER_LEN"]

HOST_STATUS = b"~HS"


def encode_host_status(paper_out: bool = False, paused: bool = False, head_up: bool = False,
                       labels_waiting: int = 0) -> bytes:
    s1 = f"030,{int(paper_out)},{int(paused)},1245,000,0,0,0,000,0,0,0"
    s2 = f"000,0,{int(head_up)},0,0,2,4,0,{labels_waiting:08d},1,000"
    s3 = "1234,0"
    return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (s1, s2, s3))


ANSWER_LEN = len(encode_host_status())


def decode_host_status(raw: bytes) -> dict:
    """``{"paper_out", "paused", "head_up"}`` from the ~HS answer; ValueError if malformed."""
    parts = [p for p in raw.split(b"\x03\r\n") if p]
    if len(parts) < 2 or not all(p.startswith(b"\x02") for p in parts[:2]):
        raise ValueError(f"not a ~HS answer: {raw[:60]!r}")
    s1 = parts[0][1:].decode("ascii", "replace").split(",")
    s2 = parts[1][1:].decode("ascii", "replace").split(",")
    if len(s1) < 3 or len(s2) < 3:
        raise ValueError(f"short ~HS answer: {raw[:60]!r}")
    return {"paper_out": s1[1] == "1", "paused": s1[2] == "1", "head_up": s2[2] == "1"}
