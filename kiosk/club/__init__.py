"""The club pack's front ends: the box's call router (:mod:`.box`), a role device's client
(:mod:`.device`) and the role screens (:mod:`.screen`, Kivy). Only :mod:`.screen` imports Kivy."""
