"""One module (and one ``assets/kv/<name>.kv``) per screen. Each module exposes ``SCREEN``."""
