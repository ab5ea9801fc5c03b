"""Native payloads as JSON, per provider: rendering neutral events through the adapters'
``to_native`` and reading the same JSON back (``invoke --native``)."""
