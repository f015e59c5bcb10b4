"""The hospital pack's section of the site configuration (``Pack.config``): ``[hospital]``."""

from __future__ import annotations

from ..config import Key, _pin_hash

__all__ = ["SECTIONS"]


def _level(v):
    return None if v in ("primary", "secondary", "tertiary") else "must be primary, secondary or tertiary"


def _gateway(v):
    return None if v in ("", "sim") or (":" in v and all(v.partition(":")[::2])) else \
        "must be sim or a module:factory path of the site's insurance platform adapter"


SECTIONS = {"hospital": {
    "insurance_gateway": Key(str, "", "The insurance platform adapter: sim (the simulated platform, for demos and "
                             "tests) or module:factory (factory(config) returns the site's adapter); empty = none "
                             "named, refused when the platform is first needed.", _gateway),
    "insurance_policy": Key(str, "", "Insurance policy tables (TOML); empty = assets/config/insurance.toml."),
    "hospital_level": Key(str, "tertiary", "Hospital level for the policy tables: primary, secondary or tertiary.",
                          _level),
    "low_balance_fen": Key(int, 50000, "Deposit balance (fen) below which the daily list asks for a top-up.",
                           lambda v: None if v >= 0 else "must be 0 or more"),
    "void_receipts_supervisor": Key(bool, False, "Settling a discharge with deposit receipts not taken back (they are "
                                    "voided) needs the supervisor's own PIN as well as the cashier's confirmation."),
}, "ward": {
    "ward_code": Key(str, "", "The ward this nurse station serves (a ward code); empty = the first ward."),
    "nurse_pin": Key(str, "", "PBKDF2 hash of the ward nurses' PIN (`onestop config pin-hash`); empty = refused.",
                     _pin_hash),
    "charge_nurse_pin": Key(str, "", "PBKDF2 hash of the charge nurse's PIN (unlocks charges); empty = refused.",
                            _pin_hash),
    "doctor_pin": Key(str, "", "PBKDF2 hash of the ward doctors' PIN (discharge orders); empty = refused.",
                      _pin_hash),
}}
