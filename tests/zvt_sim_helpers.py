"""Shared helpers for the payment tests: a simulated ZVT terminal on TCP or on a pty."""

from __future__ import annotations

from contextlib import contextmanager

from drivers.sim.zvt_terminal import PtyFrontEnd, SimTerminal, TcpFrontEnd

# generous enough for a loaded 2-core CI machine (the sim thread shares the GIL with the test)
FAST = "timeout=2&ack_timeout=2"


@contextmanager
def sim_terminal(state_dir, transport: str):
    sim = SimTerminal(state_dir)
    front = (TcpFrontEnd(sim) if transport == "tcp" else PtyFrontEnd(sim)).start()
    try:
        yield sim, f"{front.url}?{FAST}"
    finally:
        front.stop()


def charges(sim) -> list[dict]:
    return [e for e in sim.ledger.entries() if e.get("result") == "approved"]


#: every dialogue test runs over TCP and over a pty (the pty variants were opt-in for a while: a
#: stopped simulator's thread could read the first frame meant for the next pty; see PtyFrontEnd)
TRANSPORTS = ["tcp", "pty"]
