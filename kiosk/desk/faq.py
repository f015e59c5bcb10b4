"""The lobby kiosk's answers to common enquiries (from the lobby's "Common questions"): the
questions of the desk's FAQ catalogue (``assets/config/desk_faq.toml``, three languages) as
buttons; a tap shows the answer. "Ask the desk" goes back to the lobby to send the question as
an enquiry."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["SCREEN", "KV", "DeskFaqScreen"]

KV = """
<DeskFaqScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 12 * app.scale
        spacing: 8 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 56 * app.scale)
            spacing: 8
            OLabel:
                id: title
                font_size: 36 * app.scale
                bold: True
                text: app.t("Common questions", app.lang)
            OButton:
                id: back
                size_hint_x: 0.25
                font_size: 24 * app.scale
                text: app.t("Back", app.lang)
                on_release: app.go("desk_lobby")
        ScrollView:
            size_hint_y: 0.6
            BoxLayout:
                id: questions
                orientation: "vertical"
                size_hint_y: None
                height: self.minimum_height
                spacing: 6
        OLabel:
            id: answer
            size_hint_y: 0.3
            font_size: 26 * app.scale
            valign: "top"
            text: root.answer
        OButton:
            id: ask
            size_hint_y: None
            height: max(app.touch_min, 62 * app.scale)
            font_size: 24 * app.scale
            text: app.t("Not answered here? Ask the desk", app.lang)
            on_release: root.ask()
"""


class DeskFaqScreen(Screen):
    answer = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.shown: int | None = None
        self.buttons: list = []
        App.get_running_app().bind(lang=lambda *_: self.refresh())

    def on_pre_enter(self, *_):
        self.refresh()

    def refresh(self) -> None:
        from pos.desk.service import load_faq

        app = App.get_running_app()
        if "questions" not in self.ids:
            return
        self.faq = load_faq()
        box = self.ids.questions
        box.clear_widgets()
        self.buttons = []
        for i, f in enumerate(self.faq):
            b = Factory.SecondaryButton(size_hint_y=None, height=max(app.touch_min, 58 * app.scale))
            b.font_size = 24 * app.scale
            b.text = app.fx(f["q"].get(app.lang) or f["q"]["en"])
            b.bind(on_release=lambda _b, i=i: self.show(i))
            self.buttons.append(b)
            box.add_widget(b)
        self.show(self.shown)

    def show(self, i: int | None) -> None:
        app = App.get_running_app()
        self.shown = i
        self.answer = "" if i is None else app.fx(self.faq[i]["a"].get(app.lang) or self.faq[i]["a"]["en"])

    def reset(self) -> None:
        self.shown, self.answer = None, ""

    def ask(self) -> None:
        app = App.get_running_app()
        lobby = app.screen("desk_lobby")
        lobby.ids.enquiry.state = "down"
        for other in ("repair", "complaint"):
            lobby.ids[other].state = "normal"
        app.go("desk_lobby")


SCREEN = DeskFaqScreen
