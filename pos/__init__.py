"""The point-of-service domain, in pure Python (no Kivy): the kiosk, the counter and the server
apply the same rules from here."""
