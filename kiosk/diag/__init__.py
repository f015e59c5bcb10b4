"""The technician's diagnostics screens (the platform's ``diag`` front end): one module and one
``assets/kv/diag/<module>.kv`` per screen."""
