"""Staff PINs: stored as salted PBKDF2 hashes in the config, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["hash_pin", "verify_pin"]

_ITER = 100_000


def hash_pin(pin: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), _ITER).hex()
    return f"pbkdf2-sha256${_ITER}${salt}${digest}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        algo, iters, salt, digest = stored.split("$")
        if algo != "pbkdf2-sha256":
            return False
        test = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), int(iters)).hex()
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(test, digest)
