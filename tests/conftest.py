"""Shared test helpers: the official sample events in tests/events (see their PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"


def aws_event_files(prefix: str) -> list[Path]:
    """Sample event files of one source, e.g. ``aws_event_files("sqs")``."""
    files = sorted((EVENTS / "aws").glob(f"{prefix}__*.json"))
    assert files, f"no sample events for {prefix!r}"
    return files


def load_event(path: Path | str) -> Any:
    path = Path(path)
    if not path.is_absolute():
        path = EVENTS / "aws" / path
    return json.loads(path.read_text(encoding="utf-8"))
