"""The cashier counter's screens (the hospital pack's ``counter`` front end): one module and one
``assets/kv/counter/<module>.kv`` per screen; ``base`` holds what they share."""
