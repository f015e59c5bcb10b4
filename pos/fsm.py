"""A small generic transition table: ``Machine(name, {(from, event): to})``.

``machine.next(state, event)`` returns the new state or raises the machine's ``error`` (by default
:class:`pos.errors.InvalidTransition`; a pack passes its own subclass) with a reason the cashier
can read; the detail names the machine, the state and the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidTransition

__all__ = ["Machine"]


@dataclass(frozen=True)
class Machine:
    name: str
    table: dict[tuple[str, str], str]
    initial: str
    final: frozenset[str] = field(default_factory=frozenset)
    error: type = InvalidTransition

    @property
    def states(self) -> set[str]:
        out = {self.initial}
        for (src, _), dst in self.table.items():
            out.update((src, dst))
        return out

    def allowed(self, state: str) -> list[str]:
        """Events allowed from ``state`` (for the UI to enable buttons)."""
        return sorted(ev for (src, ev) in self.table if src == state)

    def can(self, state: str, event: str) -> bool:
        return (state, event) in self.table

    def next(self, state: str, event: str, code: str | None = None) -> str:
        try:
            return self.table[(state, event)]
        except KeyError:
            detail = (f"{self.name}: '{event}' is not allowed in state '{state}' "
                      f"(allowed: {', '.join(self.allowed(state)) or 'none'})")
            raise (self.error(detail, code=code) if code else self.error(detail)) from None
