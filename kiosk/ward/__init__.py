"""``onestop ward``: the nurse station and doctor front end of the hospital pack."""
