"""The real PC/SC stack for tests: pcscd + vpcd + our virtual card, in private namespaces.

* pcscd hard-codes ``/run/pcscd/pcscd.comm`` and allows one daemon per host, so it runs in a
  private **mount** namespace where a fresh tmpfs covers ``/run`` and our own temporary folder is
  bound onto ``/run/pcscd``. The socket therefore appears in that folder on the host, and clients
  here reach it through ``PCSCLITE_CSOCK_NAME`` (read once per process by libpcsclite, so
  :func:`use_private_socket` must run before the first PC/SC call). A pcscd already running on
  the host is neither used nor disturbed.
* vpcd listens on 0.0.0.0; pcscd and the virtual cards run in a private **network** namespace
  (only a loopback inside), so nothing outside can reach it and no loopback config (which crashes
  Debian 12's pcscd on card removal) is needed.
* :meth:`PcscStack.stop` ends exactly the processes it started (by PID) and removes its folders.

Needs root (namespaces, mounts); :class:`StackUnavailable` says why it cannot start.
``PCSCD_LOGLEVEL=--debug`` makes pcscd log every step to ``pcscd.log`` in the stack's folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VPCD_LIB = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
BASE = Path(tempfile.gettempdir()) / f"onestop-pcsc-{os.getpid()}"
SOCK_DIR = BASE / "run"
SOCKET = SOCK_DIR / "pcscd.comm"
VPCD_PORT = 0x8C7B

__all__ = ["PcscStack", "StackUnavailable", "use_private_socket", "SOCKET", "READER"]

READER = "Virtual PCD 00 00"


class StackUnavailable(RuntimeError):
    pass


def use_private_socket() -> None:
    """Point this process's PC/SC client library at the private pcscd (before any PC/SC call)."""
    os.environ["PCSCLITE_CSOCK_NAME"] = str(SOCKET)


class CardProcess:
    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def remove(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


class PcscStack:
    def __init__(self):
        self.pcscd: subprocess.Popen | None = None
        self.cards: list[CardProcess] = []
        self.log = BASE / "pcscd.log"

    @staticmethod
    def why_unavailable() -> str | None:
        if os.geteuid() != 0:
            return "needs root for private mount/network namespaces (pcscd + vpcd)"
        for tool in ("pcscd", "unshare", "nsenter", "ip"):
            if not shutil.which(tool):
                return f"{tool} not installed (apt: pcscd vsmartcard-vpcd util-linux iproute2)"
        if not Path(VPCD_LIB).exists():
            return f"{VPCD_LIB} missing (apt: vsmartcard-vpcd)"
        return None

    def start(self) -> "PcscStack":
        reason = self.why_unavailable()
        if reason:
            raise StackUnavailable(reason)
        shutil.rmtree(BASE, ignore_errors=True)
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "PcscStack":
        conf = BASE / "reader.conf.d"
        conf.mkdir(parents=True)
        SOCK_DIR.mkdir()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x{VPCD_PORT:04X}\n'
            f"LIBPATH {VPCD_LIB}\nCHANNELID 0x{VPCD_PORT:04X}\n")
        script = (f"set -e; ip link set lo up; mount -t tmpfs -o mode=755 tmpfs /run; mkdir /run/pcscd; "
                  f"mount --bind '{SOCK_DIR}' /run/pcscd; exec pcscd --foreground ${{PCSCD_LOGLEVEL:---error}} -c '{conf}'")
        logf = self.log.open("wb")
        self.pcscd = subprocess.Popen(["unshare", "--mount", "--net", "--propagation", "private",
                                       "sh", "-c", script], stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + 10
        while not SOCKET.exists():
            if self.pcscd.poll() is not None or time.monotonic() > deadline:
                out = self.log.read_text(errors="replace")
                raise StackUnavailable(f"pcscd did not start: {out.strip()[-300:]}")
            time.sleep(0.02)
        return self

    def insert(self, profile: str | Path, slot: int = 0, pull_after: int | None = None) -> CardProcess:
        """Insert a virtual card and wait until pcscd reports it present.

        A card that vpcd accepts in the same 400 ms poll in which the previous card vanished is
        never announced by pcscd (it looks like the old card, still there); like a person who
        sees no light on the reader, take it out and insert it again.
        """
        for _attempt in range(4):
            card = self._start_card(profile, slot, pull_after)
            if self._wait_state(slot, present=True, timeout=3.0):
                return card
            card.remove()
            self.cards.remove(card)
            self._wait_state(slot, present=False, timeout=3.0)
        raise StackUnavailable("pcscd never reported the virtual card as inserted")

    def _start_card(self, profile, slot, pull_after) -> CardProcess:
        cmd = ["nsenter", "-t", str(self.pcscd.pid), "-n", "--", sys.executable, "-m", "drivers.sim.vpcd_card",
               str(profile), "--port", str(VPCD_PORT + slot)]
        if pull_after is not None:
            cmd += ["--pull-after", str(pull_after)]
        deadline = time.monotonic() + 10
        while True:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = proc.stdout.readline()
            if line.strip() == b"inserted":
                card = CardProcess(proc)
                self.cards.append(card)
                return card
            err = proc.stderr.read().decode(errors="replace")
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
            if time.monotonic() > deadline:        # vpcd not listening yet: retry briefly
                raise StackUnavailable(f"virtual card could not connect: {err.strip()[-300:]}")
            time.sleep(0.05)

    def remove_all(self) -> None:
        """Remove every card and wait until pcscd has seen the slots empty.

        pcscd polls vpcd every 400 ms; a card swapped faster than that (impossible by hand) looks
        like the same card still inserted, and pcscd then refuses to connect to it.
        """
        had_cards = bool(self.cards)
        for card in self.cards:
            card.remove()
        self.cards.clear()
        if had_cards and self.pcscd is not None and self.pcscd.poll() is None:
            self.wait_empty()

    def wait_empty(self, timeout: float = 5.0) -> None:
        for slot in (0, 1):
            self._wait_state(slot, present=False, timeout=timeout)

    @staticmethod
    def _wait_state(slot: int, present: bool, timeout: float) -> bool:
        from smartcard import scard
        reader = f"Virtual PCD 00 {slot:02d}"
        rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rc != scard.SCARD_S_SUCCESS:
            return False
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                rc, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
                if rc == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT) == present:
                    return True
                time.sleep(0.03)
            return False
        finally:
            scard.SCardReleaseContext(ctx)

    def stop(self) -> None:
        self.remove_all()
        if self.pcscd is not None:
            if self.pcscd.poll() is None:
                self.pcscd.terminate()
                try:
                    self.pcscd.wait(5)
                except subprocess.TimeoutExpired:
                    self.pcscd.kill()
                    self.pcscd.wait()
            self.pcscd = None
        shutil.rmtree(BASE, ignore_errors=True)


def running_stack():
    """Fixture body shared by the PC/SC test modules: the stack for the module, stopped after.

    ``make test`` installs pcscd and vpcd, so a stack that cannot start fails the run (say why)
    rather than skipping the card tests unseen. ``ONESTOP_ALLOW_NO_PCSC=1`` skips them instead,
    for a developer machine that cannot run namespaces."""
    import pytest

    try:
        stack = PcscStack().start()
    except StackUnavailable as exc:
        if os.environ.get("ONESTOP_ALLOW_NO_PCSC") == "1":
            pytest.skip(f"PC/SC stack unavailable: {exc}")
        pytest.fail(f"PC/SC stack (pcscd + vpcd) unavailable: {exc}")
    try:
        yield stack
    finally:
        stack.stop()
