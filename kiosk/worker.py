"""Background work for the UI: device and store I/O never run on the UI thread.

``submit(fn, on_done, on_error)`` runs ``fn`` in a worker thread and calls back on the UI thread
through ``Clock.schedule_once``.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from kivy.clock import Clock

log = logging.getLogger(__name__)

__all__ = ["submit", "shutdown"]

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="onestop-io")


def submit(fn, on_done=None, on_error=None) -> Future:
    fut = _pool.submit(fn)

    def finished(f: Future):
        exc = f.exception()
        if exc is not None:
            log.warning("background task %s failed: %s", getattr(fn, "__name__", fn), exc,
                        exc_info=(type(exc), exc, exc.__traceback__))
            if on_error:
                Clock.schedule_once(lambda _dt: on_error(exc))
        elif on_done:
            result = f.result()
            Clock.schedule_once(lambda _dt: on_done(result))

    fut.add_done_callback(finished)
    return fut


def shutdown() -> None:
    _pool.shutdown(wait=False, cancel_futures=True)
