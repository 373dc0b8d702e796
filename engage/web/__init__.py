"""The HTML surface: one module of views per area of the site (the agency workspace is
a package of its own). Views load, authorize, validate, call a service and commit once."""
