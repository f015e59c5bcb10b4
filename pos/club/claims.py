"""Resource claims: a resource (a room, a bed …) held by a holder for a time span.

Two claims on one resource conflict only if both are live and their spans overlap (half-open:
``[starts, ends)``, so 18:00-21:00 and 21:00-23:00 do not). Releasing a claim (a cancelled
booking, a discharged patient) makes it not live, and it never blocks again. The check and the
insert run in the caller's ``BEGIN IMMEDIATE`` transaction, so two devices of one store cannot
both win. Nothing here knows what the resource is. The club box is the truth for its rooms
(offline-first), so the claims live in its own store (``club_claims``); resource names follow the
platform's ``<type>:<name>`` (``room:8``), so the central server's generic claims can take them.
"""

from __future__ import annotations

from pos.errors import DomainError

from .ids import ulid

__all__ = ["ClaimConflict", "claim", "release", "conflicts"]


class ClaimConflict(DomainError):
    def __init__(self, detail: str, conflicting: list[str]):
        super().__init__(detail)
        self.conflicting = conflicting


def conflicts(conn, resource: str, starts_at: str, ends_at: str, ignore: str = "") -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT claim_id FROM club_claims WHERE resource = ? AND live = 1 AND starts_at < ? AND ends_at > ? "
        "AND claim_id != ?", (resource, ends_at, starts_at, ignore))]


def claim(tx, resource: str, starts_at: str, ends_at: str, holder: str) -> str:
    if not ends_at > starts_at:
        raise DomainError(f"claim on {resource}: the end {ends_at} is not after the start {starts_at}")
    clash = conflicts(tx.conn, resource, starts_at, ends_at)
    if clash:
        raise ClaimConflict(f"{resource} is claimed {starts_at}..{ends_at} by {', '.join(clash)}", clash)
    claim_id = ulid()
    tx.insert("club_claims", {"claim_id": claim_id, "resource": resource, "starts_at": starts_at,
                                  "ends_at": ends_at, "holder": holder, "live": 1})
    return claim_id


def release(tx, claim_id: str) -> None:
    tx.execute("UPDATE club_claims SET live = 0 WHERE claim_id = ?", (claim_id,))
