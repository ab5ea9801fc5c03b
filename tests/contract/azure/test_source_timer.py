"""Timer trigger: host payloads (tests/events/azure/timer__*) → ScheduleEvent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.functions.timer import TimerRequest
from azure_host_payloads import native

from polyfn import MalformedEventError
from polyfn.adapters.azure.sources import timer
from polyfn.events.schedule import ScheduleEvent


def test_docs_timer_info() -> None:
    obj, binding = native("timer__docs__timer_info.json")
    event = timer.from_native(obj, binding)
    assert event.values() == {
        "id": None,
        "schedule": "0 */5 * * * *",
        # ScheduleStatus.Next is the occurrence firing now (the status from before the run).
        "scheduled_time": datetime(2016, 10, 4, 10, 20, tzinfo=UTC),
    }
    assert event.extensions == {
        "past_due": False,
        "schedule_status": {
            "Last": "2016-10-04T10:15:00+00:00",
            "LastUpdated": "2016-10-04T10:16:00+00:00",
            "Next": "2016-10-04T10:20:00+00:00",
        },
        "schedule": {"AdjustForDST": True},
    }


def test_past_due_first_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIGHTLY_SCHEDULE", "0 0 2 * * *")
    obj, binding = native("timer__host__first_run_past_due.json")
    event = timer.from_native(obj, binding)
    assert event.schedule == "0 0 2 * * *"
    assert event.scheduled_time == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # the missed one
    assert event.extensions["past_due"] is True


def test_without_a_monitor_the_invocation_time_is_the_scheduled_time() -> None:
    before = datetime.now(UTC)
    obj, binding = native("timer__host__no_monitor.json")
    event = timer.from_native(obj, binding)
    assert before <= event.scheduled_time <= datetime.now(UTC)
    assert event.scheduled_time == event.scheduled_time  # read once, stable
    assert "schedule_status" not in event.extensions


def test_an_unscheduled_run_is_not_dated_to_the_next_occurrence() -> None:
    # runOnStartup or a manual run: the status's Next lies ahead.
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    obj = TimerRequest(schedule_status={"Last": "0001-01-01T00:00:00", "Next": ahead})
    event = timer.from_native(obj, {"schedule": "0 0 * * * *"})
    assert event.scheduled_time <= datetime.now(UTC)


def test_a_status_with_an_unreadable_next_is_malformed() -> None:
    event = timer.from_native(TimerRequest(schedule_status={"Next": "soon"}), {})
    with pytest.raises(MalformedEventError) as err:
        event.scheduled_time  # noqa: B018
    assert (err.value.provider, err.value.source, err.value.field) == (
        "azure",
        "azure:timer",
        "ScheduleStatus.Next",
    )


def test_a_local_schedule_renders_as_a_first_run() -> None:
    when = datetime(2024, 5, 1, 10, 5, 0, 250000, tzinfo=UTC)
    native_timer = timer.to_native(ScheduleEvent("0 */5 * * * *", when), {})
    assert native_timer.past_due is False
    assert native_timer.schedule_status == {
        "Last": "0001-01-01T00:00:00",
        "Next": "2024-05-01T10:05:00.25+00:00",
        "LastUpdated": "2024-05-01T10:05:00.25+00:00",
    }
    assert timer.from_native(native_timer, {}).scheduled_time == when
