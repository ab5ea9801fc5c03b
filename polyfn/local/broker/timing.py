"""When a neutral schedule expression fires: the instants after a given time.

The expression is parsed by :mod:`polyfn.schedules`, the parser every adapter uses, so a
schedule fires locally at the instants the deployed one would:

- ``rate(N unit)`` whose period divides a day fires on the UTC clock's multiples of it
  (``rate(15 minutes)`` at :00, :15, :30, :45; ``rate(1 day)`` at midnight UTC): the
  instants of the cron that the Azure and GCP adapters deploy for it (``Rate.to_cron``);
  AWS counts from the rule's creation, with the same spacing. ``rate(7 days)`` fires on
  Sundays at midnight UTC, as its cron does. Any other period (``rate(7 minutes)``, which
  no cron spaces evenly) fires every N seconds from the schedule's registration, as AWS
  does. Rates ignore the time zone.
- cron expressions (AWS six-field, five-field, macros) fire in the schedule's time zone
  (UTC by default), computed by ``croniter`` (the ``local`` extra), imported on first
  use. The extensions are checked here on croniter's candidates rather than left to it
  (releases differ in what they know): ``L``-days of the week (``5L``, the last Friday),
  ``W`` (``15W``, the weekday nearest the 15th; ``LW``, the last weekday) and a restricted
  year field.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from polyfn.schedules import Cron, Rate, parse

DAY = 86400
WEEK = 7 * DAY
_FIRST_SUNDAY = 3 * DAY  # 1970-01-04, the first Sunday after the epoch


class Timer:
    """The firing instants (epoch seconds) of one schedule."""

    def __init__(self, expression: str, timezone: str = "UTC", anchor: float = 0.0) -> None:
        self.expression = expression
        self.timezone = timezone
        self.schedule = parse(expression)
        self.anchor = anchor
        if isinstance(self.schedule, Cron):
            self._cron = _CronTimer(self.schedule, timezone)

    def after(self, t: float) -> Iterator[float]:
        """Every firing instant strictly after ``t``, in order (endless unless the
        expression names its last year)."""
        schedule = self.schedule
        if isinstance(schedule, Rate):
            return self._rate(schedule.seconds, t)
        return self._cron.after(t)

    def next_after(self, t: float) -> float | None:
        return next(self.after(t), None)

    def _rate(self, period: int, t: float) -> Iterator[float]:
        if DAY % period == 0:
            origin = 0.0
        elif period == WEEK:
            origin = float(_FIRST_SUNDAY)
        else:
            origin = self.anchor
        k = math.floor((t - origin) / period) + 1
        while True:
            yield origin + k * period
            k += 1


class _CronTimer:
    """croniter for the standard fields; ``LW``, ``nW``, ``dL`` and the year are checked
    here on croniter's candidates (it lacks some, and older releases lack others)."""

    def __init__(self, cron: Cron, timezone: str) -> None:
        from zoneinfo import ZoneInfo

        self.tz = ZoneInfo(timezone)
        dom, dow = cron.day_of_month, cron.day_of_week
        self.last_weekday = dom == "LW"
        self.nearest_weekday: int | None = None
        self.last_of_month_dow = dow.endswith("L")
        if self.last_weekday:
            dom = "26-31"  # the candidates; _ok keeps the last weekday among them
        elif dom.endswith("W"):
            n = int(dom[:-1])
            self.nearest_weekday = n
            dom = f"{max(1, n - 2)}-{min(31, n + 2)}"
        if self.last_of_month_dow:  # the last <day> of the month: its last 7 days
            dow = dow[:-1]
        self.expr = " ".join((cron.minute, cron.hour, dom, cron.month, dow))
        self.years = None if cron.year == "*" else _years(cron.year)

    def _ok(self, dt: datetime) -> bool:
        last = calendar.monthrange(dt.year, dt.month)[1]
        if self.last_weekday and dt.day != _weekday_near(dt.year, dt.month, last, last):
            return False
        if self.nearest_weekday is not None and dt.day != _weekday_near(
            dt.year, dt.month, self.nearest_weekday, last
        ):
            return False
        return not (self.last_of_month_dow and dt.day + 7 <= last)

    def after(self, t: float) -> Iterator[float]:
        from croniter import croniter

        it: Any = croniter(self.expr, datetime.fromtimestamp(t, self.tz))
        while True:
            dt: datetime = it.get_next(datetime)
            if self.years is not None and dt.year not in self.years:
                later = [y for y in self.years if y > dt.year]
                if not later:
                    return
                # Jump to the next allowed year instead of walking through the others.
                jump = datetime(later[0], 1, 1, tzinfo=self.tz).timestamp() - 1
                it = croniter(self.expr, datetime.fromtimestamp(jump, self.tz))
                continue
            if self._ok(dt):
                yield dt.timestamp()


def _weekday_near(year: int, month: int, day: int, last: int) -> int | None:
    """The weekday nearest ``day`` within its month (AWS's and Quartz's ``W``); None when
    the month has no such day."""
    if day > last:
        return None
    weekday = calendar.weekday(year, month, day)
    if weekday == 5:  # Saturday: the Friday before, or the Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before on the last day
        return day + 1 if day < last else day - 2
    return day


def _years(field: str) -> list[int]:
    """The years a normalised year field names (``2025``, ``2025-2030/2``, ``*/2``...)."""
    years: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        stride = int(step) if step else 1
        if base == "*":
            lo, hi = 1970, 2199
        elif "-" in base:
            a, b = base.split("-")
            lo, hi = int(a), int(b)
        else:
            lo = int(base)
            hi = 2199 if step else lo
        years.update(range(lo, hi + 1, stride))
    return sorted(years)
