"""The neutral schedule expression, parsed into a small typed form adapters translate.

Accepted (see ``App.schedule``):

- ``rate(N minute[s] | hour[s] | day[s])`` → :class:`Rate`;
- AWS ``cron(minute hour day-of-month month day-of-week year)``: day-of-week ``1-7`` =
  SUN-SAT, ``?`` for "any", ``L``, ``W`` and ``#`` → :class:`Cron`;
- five-field cron ``minute hour day-of-month month day-of-week`` (day-of-week ``0-7``, both
  0 and 7 are Sunday) → :class:`Cron`;
- ``@yearly``, ``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``.

A :class:`Cron` is normalised so that every consumer reads one dialect: numbers only (month
and day names become numbers), day-of-week ``0-6`` = SUN-SAT, ``?`` becomes ``*``, and
``start/step`` becomes ``start-max/step`` (the one spelling every cron accepts). When both
day fields are restricted (only possible in five-field cron: AWS forbids it) a day matches
if *either* matches, as in Vixie cron.

No dependency: this is the core, and only adapters and the local runtime compute times.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from polyfn.errors import DefinitionError


class ScheduleError(DefinitionError):
    """A schedule expression that is invalid, or that a target cannot express exactly.

    ``field`` names the part at fault (``"day-of-week"``, ``"rate"``, ``"expression"``).
    """

    def __init__(self, expression: str, field: str, reason: str) -> None:
        self.expression = expression
        self.field = field
        self.reason = reason
        detail = reason if field == "expression" else f"{expression!r}: {field}: {reason}"
        super().__init__(f"schedule trigger: expression: {detail}")


class Rate(NamedTuple):
    """Every ``seconds`` seconds."""

    seconds: int

    def to_cron(self, expression: str = "") -> Cron:
        """The clock-aligned cron that fires exactly every ``seconds``: ``rate(15 minutes)``
        fires at :00, :15, :30 and :45 (AWS counts from when the rule was created instead,
        the spacing is the same). A rate no cron spaces evenly (``rate(7 minutes)``: "*/7"
        restarts at every hour) raises :class:`ScheduleError`."""
        s = self.seconds
        expr = expression or f"rate({s} seconds)"
        if s % 60 == 0 and s < 3600 and 3600 % s == 0:
            n = s // 60
            return Cron("*" if n == 1 else f"*/{n}", "*", "*", "*", "*")
        if s % 3600 == 0 and s < 86400 and 86400 % s == 0:
            n = s // 3600
            return Cron("0", "*" if n == 1 else f"*/{n}", "*", "*", "*")
        if s == 86400:
            return Cron("0", "0", "*", "*", "*")
        if s == 7 * 86400:  # weekly: every Sunday at midnight, exactly 7 days apart
            return Cron("0", "0", "*", "*", "0")
        raise ScheduleError(
            expr,
            "rate",
            "no cron expression fires exactly this often (use a rate that divides an hour "
            "or a day evenly, 1 day or 7 days, or a cron expression)",
        )


class Cron(NamedTuple):
    """A cron schedule in UTC (or the trigger's timezone), fields normalised as above."""

    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str
    year: str = "*"

    @property
    def extensions(self) -> list[str]:
        """The non-standard features used (``L``, ``W``, ``#``, a year), by field name."""
        found = [
            name
            for name, value in (
                ("day-of-month", self.day_of_month),
                ("day-of-week", self.day_of_week),
            )
            if any(c in value for c in "LW#")
        ]
        if self.year != "*":
            found.append("year")
        return found

    @property
    def both_days_restricted(self) -> bool:
        """Both day fields restricted: a day matches if either does (Vixie cron)."""
        return not self.day_of_month.startswith("*") and not self.day_of_week.startswith("*")

    def to_cron5(self, expression: str = "") -> str:
        """Standard five-field cron (``minute hour day-of-month month day-of-week``).

        Raises :class:`ScheduleError` for what standard cron lacks: ``L``, ``W``, ``#`` and
        a specific year.
        """
        expr = expression or " ".join(self)
        for name in self.extensions:
            if name == "year":
                raise ScheduleError(expr, name, "standard cron cannot name a year")
            value = getattr(self, name.replace("-", "_"))
            raise ScheduleError(expr, name, f"standard cron has no L, W or # ({value!r})")
        return " ".join(self[:5])


Schedule = Rate | Cron

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MACROS: dict[str, Cron] = {
    "@yearly": Cron("0", "0", "1", "1", "*"),
    "@annually": Cron("0", "0", "1", "1", "*"),
    "@monthly": Cron("0", "0", "1", "*", "*"),
    "@weekly": Cron("0", "0", "*", "*", "0"),
    "@daily": Cron("0", "0", "*", "*", "*"),
    "@midnight": Cron("0", "0", "*", "*", "*"),
    "@hourly": Cron("0", "*", "*", "*", "*"),
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# An item: "*", a value or a range, optionally stepped. Values are numbers or names.
_ITEM = re.compile(r"^(\*|\w+)(?:-(\w+))?(?:/(\d+))?$")


def parse(expression: str) -> Schedule:
    """The typed form of a neutral schedule expression; :class:`ScheduleError` if invalid."""
    expr = expression.strip()
    macro = _MACROS.get(expr)
    if macro is not None:
        return macro
    rate = _RATE.match(expr)
    if rate:
        n, unit = int(rate.group(1)), rate.group(2)
        if n <= 0:
            raise ScheduleError(expression, "expression", "rate must be positive")
        singular = unit.rstrip("s")
        if (n == 1) != (not unit.endswith("s")):
            raise ScheduleError(
                expression, "expression", f"{expr!r}: use '1 {singular}' or 'N {singular}s'"
            )
        return Rate(n * _UNIT[singular])
    aws = expr.startswith("cron(") and expr.endswith(")")
    parts = (expr[5:-1] if aws else expr).split()
    if len(parts) != (6 if aws else 5):
        raise ScheduleError(
            expression,
            "expression",
            f"{expression!r} is not rate(...), cron(6 fields), 5-field cron or an @macro",
        )
    return _parse_cron(expression, parts, aws)


def _parse_cron(expression: str, parts: list[str], aws: bool) -> Cron:
    minute = _field(expression, "minute", parts[0], 0, 59)
    hour = _field(expression, "hour", parts[1], 0, 23)
    dom = _day_of_month(expression, parts[2])
    month = _field(expression, "month", parts[3], 1, 12, _MONTHS)
    dow = _day_of_week(expression, parts[4], aws)
    year = _field(expression, "year", parts[5], 1970, 2199) if aws else "*"
    cron = Cron(minute, hour, dom, month, dow, year)
    if aws and cron.both_days_restricted:
        raise ScheduleError(
            expression,
            "day-of-week",
            "cron() cannot restrict both day-of-month and day-of-week: use ? in one",
        )
    return cron


def _value(
    expression: str, field: str, token: str, lo: int, hi: int, names: tuple[str, ...]
) -> int:
    if token.isdigit():
        value = int(token)
    elif token.upper() in names:
        value = names.index(token.upper()) + lo
    else:
        raise ScheduleError(expression, field, f"{token!r} is not a number or a name")
    if not lo <= value <= hi:
        raise ScheduleError(expression, field, f"{value} is out of range {lo}-{hi}")
    return value


def _items(
    expression: str, field: str, text: str, lo: int, hi: int, names: tuple[str, ...] = ()
) -> list[tuple[int, int, int, bool]]:
    """Each comma-separated item as (start, end, step, was_star)."""
    out = []
    for item in text.split(","):
        m = _ITEM.match(item)
        if m is None:
            raise ScheduleError(expression, field, f"{item!r} is not a cron item")
        first, last, step = m.groups()
        stride = int(step) if step else 1
        if stride <= 0:
            raise ScheduleError(expression, field, f"step in {item!r} must be positive")
        if first == "*":
            if last is not None:
                raise ScheduleError(expression, field, f"{item!r} is not a cron item")
            out.append((lo, hi, stride, True))
            continue
        start = _value(expression, field, first, lo, hi, names)
        if last is not None:
            end = _value(expression, field, last, lo, hi, names)
        else:
            end = hi if step else start  # "5/10" is "5-max/10"
        if end < start:
            raise ScheduleError(expression, field, f"range {item!r} runs backwards")
        out.append((start, end, stride, False))
    return out


def _render(items: list[tuple[int, int, int, bool]]) -> str:
    parts = []
    for start, end, step, star in items:
        base = "*" if star else (str(start) if start == end else f"{start}-{end}")
        parts.append(base if step == 1 else f"{base}/{step}")
    return ",".join(parts)


def _field(
    expression: str, field: str, text: str, lo: int, hi: int, names: tuple[str, ...] = ()
) -> str:
    items = _items(expression, field, text, lo, hi, names)
    # The full range is "*" ("0/10" → "*/10"). Not in the day fields: there a "*" changes
    # how the two combine (see Cron.both_days_restricted).
    if field not in ("day-of-month", "day-of-week"):
        items = [(a, b, step, star or (a == lo and b == hi)) for a, b, step, star in items]
    return _render(items)


def _day_of_month(expression: str, text: str) -> str:
    if text == "?":
        return "*"
    # L (last day), LW (last weekday), 15W (weekday nearest the 15th): kept as written.
    if text in ("L", "LW"):
        return text
    m = re.fullmatch(r"(\d+)W", text)
    if m:
        day = _value(expression, "day-of-month", m.group(1), 1, 31, ())
        return f"{day}W"
    return _field(expression, "day-of-month", text, 1, 31)


def _day_of_week(expression: str, text: str, aws: bool) -> str:
    """Normalised to 0-6 = SUN-SAT. AWS numbers days 1-7 = SUN-SAT; five-field cron 0-7."""
    field = "day-of-week"
    if text == "?":
        return "*"
    shift = 1 if aws else 0
    lo, hi = (1, 7) if aws else (0, 7)
    if text == "L":  # the last day of the week: Saturday
        return "6"
    m = re.fullmatch(r"(\w+?)(L|#\d+)", text)  # 5L: the last Thursday; MON#2: the second Monday
    if m:
        day = (_value(expression, field, m.group(1), lo, hi, _DAYS) - shift) % 7
        suffix = m.group(2)
        if suffix == "L":
            return f"{day}L"
        if not 1 <= int(suffix[1:]) <= 5:
            raise ScheduleError(expression, field, f"{text!r}: # takes 1-5")
        return f"{day}{suffix}"
    # Names count from SUN = lo in either dialect.
    items = _items(expression, field, text, lo, hi, _DAYS)
    out: list[tuple[int, int, int, bool]] = []
    for start, end, step, star in items:
        if star:
            out.append((0, 6, step, True))
        elif aws:
            out.append((start - 1, end - 1, step, False))
        elif end == 7:  # 7 is Sunday again: list the days, 7 as 0
            days = sorted({d % 7 for d in range(start, 8, step)})
            out.extend((d, d, 1, False) for d in days)
        else:
            out.append((start, end, step, False))
    return _render(out)
