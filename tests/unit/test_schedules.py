"""polyfn.schedules: the neutral schedule expression parsed and normalised.

Dialects: AWS cron (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html:
day-of-week 1-7 = SUN-SAT, one day field must be ?, L W #, a year field) and five-field
cron as in Vixie cron's crontab(5) (day-of-week 0-7, 0 and 7 Sunday; both day fields
restricted: either matches).
"""

from __future__ import annotations

import pytest

from polyfn import App, DefinitionError
from polyfn.schedules import Cron, Rate, ScheduleError, parse

PARSED = [
    ("rate(1 minute)", Rate(60)),
    ("rate(5 minutes)", Rate(300)),
    ("rate(2 hours)", Rate(7200)),
    ("rate(1 day)", Rate(86400)),
    ("cron(0 12 * * ? *)", Cron("0", "12", "*", "*", "*", "*")),
    ("cron(15 10 ? * 6L 2022-2023)", Cron("15", "10", "*", "*", "5L", "2022-2023")),
    ("cron(0/10 8-17 ? * MON-FRI *)", Cron("*/10", "8-17", "*", "*", "1-5", "*")),
    ("cron(0 10 ? * 6#3 *)", Cron("0", "10", "*", "*", "5#3", "*")),
    ("cron(0 10 ? * MON#1 *)", Cron("0", "10", "*", "*", "1#1", "*")),
    ("cron(0 10 L * ? *)", Cron("0", "10", "L", "*", "*", "*")),
    ("cron(0 10 15W * ? *)", Cron("0", "10", "15W", "*", "*", "*")),
    ("cron(0 12 ? JAN,jul SUN *)", Cron("0", "12", "*", "1,7", "0", "*")),
    ("cron(0 0 ? * 1,7 *)", Cron("0", "0", "*", "*", "0,6", "*")),
    ("cron(0 0 ? * */2 *)", Cron("0", "0", "*", "*", "*/2", "*")),
    ("cron(0 0 ? * L *)", Cron("0", "0", "*", "*", "6", "*")),
    ("*/5 * * * *", Cron("*/5", "*", "*", "*", "*")),
    ("0 2 * * *", Cron("0", "2", "*", "*", "*")),
    ("0 0 * * 7", Cron("0", "0", "*", "*", "0")),
    ("0 0 * * 5-7", Cron("0", "0", "*", "*", "0,5,6")),
    ("0 0 * * mon-fri", Cron("0", "0", "*", "*", "1-5")),
    ("0 0 1 * 1", Cron("0", "0", "1", "*", "1")),
    ("5/15 0-23/6 * * *", Cron("5-59/15", "*/6", "*", "*", "*")),
    ("@yearly", Cron("0", "0", "1", "1", "*")),
    ("@annually", Cron("0", "0", "1", "1", "*")),
    ("@monthly", Cron("0", "0", "1", "*", "*")),
    ("@weekly", Cron("0", "0", "*", "*", "0")),
    ("@daily", Cron("0", "0", "*", "*", "*")),
    ("@midnight", Cron("0", "0", "*", "*", "*")),
    ("@hourly", Cron("0", "*", "*", "*", "*")),
]


@pytest.mark.parametrize(("expression", "parsed"), PARSED)
def test_parse_normalises(expression, parsed):
    assert parse(expression) == parsed


BAD = [
    ("every day", "expression", "is not rate(...)"),
    ("rate(0 minutes)", "expression", "rate must be positive"),
    ("rate(1 minutes)", "expression", "use '1 minute' or 'N minutes'"),
    ("rate(2 hour)", "expression", "use '1 hour' or 'N hours'"),
    ("cron(0 12 * * ?)", "expression", "is not rate(...)"),
    ("61 * * * *", "minute", "61 is out of range 0-59"),
    ("0 24 * * *", "hour", "out of range 0-23"),
    ("0 0 0 * *", "day-of-month", "out of range 1-31"),
    ("0 0 * 13 *", "month", "out of range 1-12"),
    ("0 0 * FOO *", "month", "not a number or a name"),
    ("0 0 * * 8", "day-of-week", "out of range 0-7"),
    ("cron(0 0 ? * 0 *)", "day-of-week", "out of range 1-7"),
    ("cron(0 0 ? * * 1969)", "year", "out of range 1970-2199"),
    ("0 0 31-1 * *", "day-of-month", "runs backwards"),
    ("*/0 * * * *", "minute", "must be positive"),
    ("? * * * *", "minute", "not a cron item"),
    ("cron(0 12 1 * MON *)", "day-of-week", "use ? in one"),
    ("cron(0 10 ? * MON#6 *)", "day-of-week", "# takes 1-5"),
]


@pytest.mark.parametrize(("expression", "field", "reason"), BAD)
def test_bad_schedules_name_the_field(expression, field, reason):
    with pytest.raises(ScheduleError) as info:
        parse(expression)
    assert info.value.field == field
    assert reason in str(info.value)
    assert str(info.value).startswith("schedule trigger: expression: ")
    assert isinstance(info.value, DefinitionError)


@pytest.mark.parametrize(("expression", "_field", "reason"), BAD)
def test_app_schedule_checks_through_the_parser(expression, _field, reason):
    with pytest.raises(DefinitionError, match="schedule trigger: expression"):
        App("x").schedule(expression)


@pytest.mark.parametrize(
    ("rate", "cron"),
    [
        ("rate(1 minute)", "* * * * *"),
        ("rate(5 minutes)", "*/5 * * * *"),
        ("rate(30 minutes)", "*/30 * * * *"),
        ("rate(60 minutes)", "0 * * * *"),
        ("rate(120 minutes)", "0 */2 * * *"),
        ("rate(1 hour)", "0 * * * *"),
        ("rate(6 hours)", "0 */6 * * *"),
        ("rate(24 hours)", "0 0 * * *"),
        ("rate(1 day)", "0 0 * * *"),
        ("rate(7 days)", "0 0 * * 0"),
    ],
)
def test_rates_become_clock_aligned_cron(rate, cron):
    schedule = parse(rate)
    assert isinstance(schedule, Rate)
    assert schedule.to_cron(rate).to_cron5() == cron


@pytest.mark.parametrize(
    "rate",
    ["rate(7 minutes)", "rate(45 minutes)", "rate(90 minutes)", "rate(5 hours)", "rate(2 days)"],
)
def test_rates_no_cron_spaces_evenly_are_refused(rate):
    with pytest.raises(ScheduleError) as info:
        parse(rate).to_cron(rate)  # type: ignore[union-attr]
    assert info.value.field == "rate"
    assert rate in str(info.value)


@pytest.mark.parametrize(
    ("expression", "cron5"),
    [
        ("cron(0 12 * * ? *)", "0 12 * * *"),
        ("cron(0/10 8-17 ? * MON-FRI *)", "*/10 8-17 * * 1-5"),
        ("0 0 1 * 1", "0 0 1 * 1"),
        ("@weekly", "0 0 * * 0"),
    ],
)
def test_to_cron5(expression, cron5):
    schedule = parse(expression)
    assert isinstance(schedule, Cron)
    assert schedule.to_cron5() == cron5


@pytest.mark.parametrize(
    ("expression", "field"),
    [
        ("cron(0 10 L * ? *)", "day-of-month"),
        ("cron(0 10 ? * 6#3 *)", "day-of-week"),
        ("cron(0 10 * * ? 2030)", "year"),
    ],
)
def test_to_cron5_refuses_what_standard_cron_lacks(expression, field):
    schedule = parse(expression)
    assert isinstance(schedule, Cron)
    with pytest.raises(ScheduleError) as info:
        schedule.to_cron5(expression)
    assert info.value.field == field


def test_both_day_fields_restricted_means_either():
    assert parse("0 0 1 * 1").both_days_restricted  # type: ignore[union-attr]
    assert not parse("0 0 1 * *").both_days_restricted  # type: ignore[union-attr]
