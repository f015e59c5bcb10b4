"""The repair desk's one screen: the desk's name and a button that books the next slot."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

KV = """
<TechdeskHome>:
    BoxLayout:
        orientation: "vertical"
        Label:
            text: root.title
        Label:
            text: root.booked
        Button:
            text: "Book Li 10:00-11:00"
            on_release: root.book()
"""


class TechdeskHome(Screen):
    title = StringProperty("")
    booked = StringProperty("")

    def on_pre_enter(self, *_):
        self.title = App.get_running_app().site.get("techdesk", "desk_name")

    def book(self) -> None:
        desk = App.get_running_app().site_services.techdesk
        self.booked = desk.book("Li", "2026-12-08T02:00:00Z", "2026-12-08T03:00:00Z")


SCREEN = TechdeskHome
