"""ZVT (the German ECR-terminal protocol, spec PA00P015/PA00P016 at terminalhersteller.de), our own
implementation in layers: :mod:`.apdu` (CLASS INSTR LEN), :mod:`.bmp` (fields, TLV),
:mod:`.framing` (serial DLE/STX/ETX, CRC, ACK/NAK; no I/O), :mod:`.transport` (TCP and serial
links), :mod:`.messages` (commands and codes), :mod:`.terminal` (device logic). URL schemes:
:mod:`.scheme_tcp` (``zvt+tcp://``) and :mod:`.scheme_serial` (``zvt+serial://``)."""

from .apdu import Apdu, decode_apdu, encode_apdu
from .terminal import ZvtTerminal

__all__ = ["Apdu", "encode_apdu", "decode_apdu", "ZvtTerminal"]
