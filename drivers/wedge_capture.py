"""System-wide capture of a keyboard-wedge scanner with pynput (X11), for when the kiosk window
may not have focus. Inside the app, feed Kivy's key events to :class:`WedgeDecoder` instead.

    cap = SystemWedge(WedgeDecoder(), on_event=handle).start()   # handle(Scan|Typed|ScanError)
    ...
    cap.stop()

``on_event`` runs on pynput's or the poll thread; a Kivy UI hops with ``Clock.schedule_once``.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from .errors import DeviceNotFound
from .scanner import WedgeDecoder

__all__ = ["SystemWedge"]


class SystemWedge:
    def __init__(self, decoder: WedgeDecoder, on_event: Callable, clock: Callable[[], float] = time.monotonic):
        self.decoder = decoder
        self.on_event = on_event
        self.clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = None
        self._poller: threading.Thread | None = None

    def _dispatch(self, events) -> None:
        for ev in events:
            self.on_event(ev)

    def _press(self, key) -> None:
        from pynput import keyboard
        if key in (keyboard.Key.enter,):
            text = "\r"
        elif key == keyboard.Key.space:
            text = " "
        else:
            text = getattr(key, "char", None)
            if not text:
                return          # shift, ctrl, ...: not a character
        with self._lock:
            events = self.decoder.feed(text, self.clock())
        self._dispatch(events)

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            with self._lock:
                events = self.decoder.poll(self.clock())
            self._dispatch(events)

    def start(self) -> "SystemWedge":
        try:
            from pynput import keyboard
        except ImportError as exc:      # no X display / unsupported platform
            raise DeviceNotFound(f"system-wide key capture unavailable: {str(exc).splitlines()[0]}") from exc
        self._listener = keyboard.Listener(on_press=self._press)
        self._listener.start()
        self._listener.wait()
        self._poller = threading.Thread(target=self._poll, daemon=True, name="wedge-poll")
        self._poller.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._poller is not None:
            self._poller.join(1)
            self._poller = None
