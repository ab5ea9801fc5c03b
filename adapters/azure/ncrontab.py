"""The neutral schedule as an Azure Functions timer schedule: six-field NCRONTAB
(``{second} {minute} {hour} {day} {month} {day-of-week}``, read by the NCrontab library).

- ``rate(5 minutes)`` → ``0 */5 * * * *``; ``rate(1 day)`` → ``0 0 0 * * *``: rates become
  clock-aligned schedules (AWS counts a rate from the rule's creation; the spacing is the
  same). A rate NCRONTAB cannot space evenly is refused: ``0 */7 * * * *`` is *not* every 7
  minutes (it fires at :00 and :56, 4 minutes apart). On App Service plans such a rate can
  be a TimeSpan (``00:07:00``) instead: ``AzureOptions(timespan_schedules=True)``.
- ``cron(0 12 * * ? *)`` → ``0 0 12 * * *``; ``*/5 * * * *`` → ``0 */5 * * * *``.
- Refused, naming the field: AWS ``L``, ``W`` and ``#`` (NCrontab has none of them), a
  specific year, and a five-field cron restricting both day fields (cron runs the job when
  *either* matches; NCrontab only when *both* do).

Timezones are not part of the expression: Azure reads the WEBSITE_TIME_ZONE app setting for
the whole app (see functionapp.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from polyfn.errors import DefinitionError

from .options import hhmmss

if TYPE_CHECKING:
    from polyfn.schedules import Cron


def to_ncrontab(expression: str, function: str = "?", *, timespan: bool = False) -> str:
    """The timer trigger's ``schedule`` for a neutral expression; DefinitionError (provider
    azure, the function, the field) where NCRONTAB cannot say the same thing."""
    from polyfn.schedules import Rate, ScheduleError, parse  # apps without timers skip it

    try:
        schedule = parse(expression)
        if isinstance(schedule, Rate):
            try:
                schedule = schedule.to_cron(expression)
            except ScheduleError:
                if not timespan:
                    raise
                return timespan_of(schedule.seconds)
        return _six_fields(schedule, expression)
    except ScheduleError as e:
        raise DefinitionError(
            f"azure function {function!r}: schedule trigger: {e.field}: {expression!r}: {e.reason}"
        ) from None


def _six_fields(cron: Cron, expression: str) -> str:
    from polyfn.schedules import ScheduleError

    for field in cron.extensions:
        if field == "year":
            raise ScheduleError(expression, field, "NCRONTAB has no year field")
        value = getattr(cron, field.replace("-", "_"))
        raise ScheduleError(expression, field, f"NCRONTAB has no L, W or # ({value!r})")
    if cron.both_days_restricted:
        raise ScheduleError(
            expression,
            "day-of-week",
            "cron runs when either day field matches, NCRONTAB only when both do: "
            "restrict only one of them",
        )
    return "0 " + " ".join(cron[:5])


def timespan_of(seconds: int) -> str:
    """A TimeSpan schedule: ``hh:mm:ss`` below a day, ``d.hh:mm:ss`` from one day on
    (``24:00:00`` would parse as 24 days)."""
    return hhmmss(seconds)
