"""The kiosk's check-in photo (H-A4): taken by the kiosk's camera when the patient checks in (the
screen tells them first), shown at the ward's person-matches-ID check beside the ID card's facts.

Where it lives, offline first
    The JPEG is a file beside the store (``<store dir>/photos/<inpatient no>.jpg``, mode 0600: it is
    personal data), written atomically (temporary file, fsync, rename) before the transaction that
    records it commits; ``hosp_pulled_photos`` holds the reference (file name, SHA-256, time).
    The same transaction queues ``hospital.photo.taken``, which carries the JPEG itself (base64), so
    the photo needs no connection when it is taken and travels with the outbox like any other
    offline-safe command. The server records it and logs ``photo.taken``; every device that pulls
    it checks the SHA-256 and writes the file beside its own store (the ward reads it from there,
    offline too). A photo is kept small (:data:`MAX_JPEG` bytes, :data:`MAX_SIDE` pixels on its long
    side) so that a batch of queued photos stays far below the push's body limit.

A photo that is not a JPEG, too large or that fails its hash is refused with a log line; a
crash between the file and the commit leaves a file that the next photo of the stay replaces.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

from .errors import BadInput, HospitalNotFound

__all__ = ["MAX_JPEG", "MAX_SIDE", "MIGRATIONS", "photos_dir", "save_checkin_photo", "checkin_photo", "photo_path",
           "apply_pulled", "reset"]

log = logging.getLogger(__name__)

MAX_JPEG = 48_000          # bytes of one photo (a 320-pixel face at quality 75 is about 12 kB)
MAX_SIDE = 320             # pixels on the long side (drivers.camera.CameraScanner.take_photo)


def photos_dir(store) -> Path:
    return Path(store.path).resolve().parent / "photos"


def _is_jpeg(data: bytes) -> bool:
    return len(data) > 4 and data[:3] == b"\xff\xd8\xff" and data.rstrip(b"\x00")[-2:] == b"\xff\xd9"


def _write(store, inpatient_no: str, data: bytes) -> str:
    """Write the photo file atomically with mode 0600; returns its name (relative to photos_dir)."""
    folder = photos_dir(store)
    folder.mkdir(mode=0o700, exist_ok=True)
    name = _name(inpatient_no)
    tmp = folder / (name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, folder / name)
    return name


def _record(tx, inpatient_no: str, name: str, sha: str, taken_at: str, seq: int) -> None:
    tx.execute("INSERT INTO hosp_pulled_photos (inpatient_no, file, sha256, taken_at, seq) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT(inpatient_no) DO UPDATE SET file = excluded.file, sha256 = excluded.sha256, "
               "taken_at = excluded.taken_at, seq = excluded.seq WHERE excluded.seq >= hosp_pulled_photos.seq",
               (inpatient_no, name, sha, taken_at, seq))


def save_checkin_photo(svc, inpatient_no: str, jpeg: bytes) -> dict:
    """Keep the kiosk's photo of the patient of ``inpatient_no`` and queue it for the other devices.
    Returns ``{inpatient_no, sha256, file, taken_at}``; raises BadInput ``bad_input`` for data that
    is not a JPEG or is larger than :data:`MAX_JPEG`."""
    if not isinstance(jpeg, (bytes, bytearray)) or not _is_jpeg(bytes(jpeg)):
        raise BadInput(f"{inpatient_no}: the check-in photo is not a JPEG")
    if len(jpeg) > MAX_JPEG:
        raise BadInput(f"{inpatient_no}: the check-in photo has {len(jpeg)} bytes (at most {MAX_JPEG})")
    svc.admission(inpatient_no)                      # one of this device's stays
    sha, at = hashlib.sha256(jpeg).hexdigest(), svc.now()
    name = _write(svc.store, inpatient_no, bytes(jpeg))
    with svc.store.transaction() as tx:
        tx.emit("hospital.photo.taken", {"inpatient_no": inpatient_no, "sha256": sha, "taken_at": at,
                                         "jpeg_b64": base64.b64encode(jpeg).decode("ascii")})
        _record(tx, inpatient_no, name, sha, at, 0)
    log.info("check-in photo of %s kept (%d bytes, sha256 %s)", inpatient_no, len(jpeg), sha[:12])
    return {"inpatient_no": inpatient_no, "sha256": sha, "file": name, "taken_at": at}


def checkin_photo(store, inpatient_no: str) -> bytes | None:
    """The stay's check-in photo as this device has it (taken here or pulled), or None. A file that
    no longer matches its hash is not shown (logged)."""
    r = store.conn.execute("SELECT file, sha256 FROM hosp_pulled_photos WHERE inpatient_no = ?",
                           (inpatient_no,)).fetchone()
    if r is None:
        return None
    try:
        data = (photos_dir(store) / r[0]).read_bytes()
    except FileNotFoundError:
        log.warning("check-in photo of %s: file %s is missing", inpatient_no, r[0])
        return None
    if hashlib.sha256(data).hexdigest() != r[1]:
        log.warning("check-in photo of %s: file %s does not match its hash", inpatient_no, r[0])
        return None
    return data


def photo_path(store, inpatient_no: str) -> str:
    """The file of the stay's check-in photo when it is present and intact, else ''."""
    if checkin_photo(store, inpatient_no) is None:
        return ""
    r = store.conn.execute("SELECT file FROM hosp_pulled_photos WHERE inpatient_no = ?", (inpatient_no,)).fetchone()
    return str(photos_dir(store) / r[0])


def apply_pulled(tx, kind: str, p: dict, seq: int) -> None:
    """The projection of ``photo.taken``: check the hash, write the file beside this store, record it."""
    try:
        data = base64.b64decode(p["jpeg_b64"], validate=True)
    except (KeyError, ValueError):
        log.warning("photo.taken %s (seq %d): no readable JPEG in the event; skipped", p.get("inpatient_no"), seq)
        return
    if hashlib.sha256(data).hexdigest() != p.get("sha256") or not _is_jpeg(data) or len(data) > MAX_JPEG:
        log.warning("photo.taken %s (seq %d): the JPEG does not match its hash or limits; skipped",
                    p.get("inpatient_no"), seq)
        return
    have = tx.execute("SELECT sha256, seq FROM hosp_pulled_photos WHERE inpatient_no = ?", (p["inpatient_no"],)).fetchone()
    if have is not None and (have[1] > seq or (have[0] == p["sha256"] and
                                                (photos_dir(tx.store) / _name(p["inpatient_no"])).exists())):
        if have[0] == p["sha256"]:
            tx.execute("UPDATE hosp_pulled_photos SET seq = max(seq, ?) WHERE inpatient_no = ?", (seq, p["inpatient_no"]))
        return
    name = _write(tx.store, p["inpatient_no"], data)
    _record(tx, p["inpatient_no"], name, p["sha256"], p.get("taken_at") or "", seq)


def _name(inpatient_no: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in inpatient_no) + ".jpg"


def reset(tx) -> None:
    tx.execute("DELETE FROM hosp_pulled_photos")


def m001_wardstay_checkin_photos(db) -> None:
    db.execute("""CREATE TABLE hosp_pulled_photos (inpatient_no TEXT PRIMARY KEY, file TEXT NOT NULL,
                  sha256 TEXT NOT NULL, taken_at TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0)""")


MIGRATIONS = [m001_wardstay_checkin_photos]
