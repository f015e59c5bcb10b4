"""Baseline for bench_startup: a minimal Kivy app with one Label, started the same way as the kiosk
(same interpreter, same SDL driver), reporting at its first rendered frame."""

import json
import os
import resource
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.label import Label  # noqa: E402


class Minimal(App):
    def build(self):
        return Label(text="Hello")


def on_flip(*_):
    Window.unbind(on_flip=on_flip)
    print(json.dumps({"first_frame": time.time(),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2])}), flush=True)
    Clock.schedule_once(lambda _dt: App.get_running_app().stop(), 0)


Window.bind(on_flip=on_flip)
Minimal().run()
