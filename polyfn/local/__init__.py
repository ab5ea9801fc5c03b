"""The local runtime: what runs a polyfn app on one machine (emulators, broker, clock)."""
