"""Kiosk flows as plain state machines (no Kivy): what each step does and which step may follow.

The Kivy screens call these from worker threads and show ``flow.state``; tests drive them without
a screen. Every invalid step raises :class:`~pos.errors.InvalidTransition`.
"""
