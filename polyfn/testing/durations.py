"""Durations for ``advance(...)``: seconds, a timedelta, or text such as ``"1d"``,
``"2h30m"``, ``"90s"``, ``"1.5h"``, ``"250ms"``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")

Duration = float | int | timedelta | str


def seconds(duration: Duration) -> float:
    """``duration`` in seconds; raises ValueError for text it cannot read."""
    if isinstance(duration, timedelta):
        return duration.total_seconds()
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        return float(duration)
    if isinstance(duration, str):
        text = duration.strip().lower()
        pos, total = 0, 0.0
        while pos < len(text):
            match = _PART.match(text, pos)
            if match is None:
                break
            total += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if text and pos == len(text):
            return total
    raise ValueError(
        f"duration {duration!r}: seconds, a timedelta, or text like '1d', '2h30m', '90s'"
    )
