"""The active site packs' periodic server work (``pos.packs.Pack.server_tasks``: name -> dotted
path of ``fn(backend)``), run by one daemon thread of the server every ``interval`` seconds, e.g.
the desk's archive rendering. A task that raises is logged and run again next time; the thread
is started only when a pack declares a task, and ends with :meth:`PackTasks.stop`."""

from __future__ import annotations

import logging
import threading

__all__ = ["PackTasks", "start_pack_tasks"]

log = logging.getLogger(__name__)


class PackTasks:
    def __init__(self, backend, tasks: dict, interval: float):
        self.backend, self.tasks, self.interval = backend, tasks, interval
        self._stop = threading.Event()
        self.runs = 0
        self.thread = threading.Thread(target=self._loop, name="pack-tasks", daemon=True)

    def run_once(self) -> None:
        for name, fn in self.tasks.items():
            if self._stop.is_set():
                return
            try:
                fn(self.backend)
            except Exception:  # noqa: BLE001 - one failing task must not stop the others or the server
                log.exception("pack task %s failed (run again in %.0f s)", name, self.interval)
        self.runs += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(30)


def start_pack_tasks(backend, interval: float) -> PackTasks | None:
    from pos import packs

    tasks = {f"{p.name}.{name}": packs.resolve(path) for p in packs.active()
             for name, path in getattr(p, "server_tasks", {}).items()}
    if not tasks or interval <= 0:
        return None
    runner = PackTasks(backend, tasks, interval)
    runner.thread.start()
    return runner
