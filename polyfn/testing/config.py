"""Settings the pytest plugin passes to the factories, kept in a module of its own so
that the plugin's start-up imports nothing else of polyfn."""

from __future__ import annotations

from pathlib import Path

sample_dirs: list[Path] = []
"""Folders holding ``<provider>/<file>.json`` sample events (the plugin's
``polyfn_sample_events`` ini option; default ``tests/events`` under the rootdir)."""
