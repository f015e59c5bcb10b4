"""The Kivy front ends (patient kiosk, cashier counter, technician diagnostics) and the
``onestop`` command line. ``.kv`` files bind; Python in ``pos/`` decides."""
