"""Virtual devices. They are part of the product: the demo, technicians and tests use them.

``sim://KIND`` opens an in-process virtual device for a role (see :mod:`drivers.sim.scheme`).
The wire-level simulators (a virtual PC/SC card on vpcd, a SAM_V module on a pty, an ESC/POS and
ZPL printer on TCP 9100, a ZVT terminal on TCP and on a pty) live beside it, one module each, and
speak the real wire format byte for byte.
"""
