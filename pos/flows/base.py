"""A small base for flows: a transition table checked on every move."""

from __future__ import annotations

import logging

from ..errors import InvalidTransition

__all__ = ["Flow"]

log = logging.getLogger(__name__)


class Flow:
    #: state -> states it may move to
    TRANSITIONS: dict[str, tuple[str, ...]] = {}
    initial = ""

    def __init__(self):
        self.state = self.initial
        self.history = [self.initial]

    def move(self, to: str) -> None:
        if to not in self.TRANSITIONS.get(self.state, ()):
            raise InvalidTransition(f"{type(self).__name__}: cannot go from {self.state} to {to}")
        log.info("%s: %s -> %s", type(self).__name__, self.state, to)
        self.state = to
        self.history.append(to)

    def expect(self, *states: str) -> None:
        if self.state not in states:
            raise InvalidTransition(f"{type(self).__name__}: this step needs {' or '.join(states)}, not {self.state}")
