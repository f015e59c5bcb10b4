"""The desk pack's front ends (``onestop desk``: the dispatcher's console)."""
