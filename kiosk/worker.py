"""Background work for the UI: device and store I/O never run on the UI thread.

``submit(fn, on_done, on_error)`` runs ``fn`` in a worker thread and calls back on the UI thread
through ``Clock.schedule_once``, but only while the app that asked is still the running one: a
result that arrives after that app stopped (a slow device answering during shutdown, or a test that
has already closed its app) is logged and dropped rather than handed to screens whose app is gone.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from kivy.app import App
from kivy.clock import Clock

log = logging.getLogger(__name__)

__all__ = ["submit", "shutdown"]

_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="onestop-io")


def _on_ui(app, fn, callback, value) -> None:
    """Schedule ``callback(value)`` on the UI thread, if ``app`` is still running then."""

    def deliver(_dt):
        if App.get_running_app() is not app:
            log.info("dropped the result of %s: its app has stopped", getattr(fn, "__name__", fn))
            return
        callback(value)

    Clock.schedule_once(deliver)


def submit(fn, on_done=None, on_error=None) -> Future:
    app = App.get_running_app()
    fut = _pool.submit(fn)

    def finished(f: Future):
        exc = f.exception()
        if exc is not None:
            log.warning("background task %s failed: %s", getattr(fn, "__name__", fn), exc,
                        exc_info=(type(exc), exc, exc.__traceback__))
            if on_error:
                _on_ui(app, fn, on_error, exc)
        elif on_done:
            _on_ui(app, fn, on_done, f.result())

    fut.add_done_callback(finished)
    return fut


def shutdown() -> None:
    _pool.shutdown(wait=False, cancel_futures=True)
