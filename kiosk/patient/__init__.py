"""The patient kiosk's screens (the hospital pack's ``kiosk`` front end): one module and one
``assets/kv/patient/<module>.kv`` per screen."""
