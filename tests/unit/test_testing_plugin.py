"""The test toolkit (``polyfn.testing``): the pytest plugin run on tiny projects with
pytester, the Harness accessors, durations and the event factories."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

# Imported here so that pytester's in-process runs share these modules: it drops the
# modules a run imported when the run ends, and classes imported twice do not match.
import polyfn.adapters.aws
import polyfn.adapters.azure
import polyfn.adapters.gcp
import polyfn.loader
import polyfn.testing.harness  # noqa: F401
from polyfn import QueueMessage
from polyfn.testing import factories
from polyfn.testing.durations import seconds

pytest_plugins = ["pytester"]

TINY_APP = """
from polyfn import App

app = App("tiny")


@app.post("/jobs")
def post_job(req, ctx):
    job = req.json()
    ctx.outputs.send("jobs", job)
    return {"queued": job["id"]}


@app.queue("jobs", max_deliveries=3)
def job(msg, ctx):
    body = msg.json()
    if body.get("fail"):
        raise ValueError(f"job {body['id']} exploded")
    ctx.outputs.put("done", body["id"] + ".json", body)
    ctx.outputs.publish("finished", body)


@app.schedule("@daily")
def daily(event, ctx):
    ctx.outputs.send("reports", {"day": event.scheduled_time.date().isoformat()})
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project holding tinyapp.py, with ``polyfn_app = tinyapp:app`` in its ini."""
    pytester.makepyfile(tinyapp=TINY_APP)
    pytester.makeini("[pytest]\npolyfn_app = tinyapp:app\n")
    pytester.syspathinsert()
    return pytester


def test_fixtures_run_the_app_on_a_fresh_runtime(project):
    project.makepyfile(
        test_jobs="""
        def test_http_to_queue_to_storage_and_topic(polyfn):
            assert polyfn.http("POST", "/jobs", json={"id": "j1"}).json() == {"queued": "j1"}
            polyfn.idle()
            assert [m.json() for m in polyfn.sent("jobs")] == [{"id": "j1"}]
            assert polyfn.objects("done") == {"j1.json": b'{"id":"j1"}'}
            assert [m.json() for m in polyfn.published("finished")] == [{"id": "j1"}]
            assert polyfn.ran("job") and polyfn.provider is None

        def test_a_day_on_the_virtual_clock(local_runtime):
            local_runtime.advance("1d")
            local_runtime.idle()
            assert [m.json() for m in local_runtime.sent("reports")] == [{"day": "2024-01-02"}]

        def test_each_test_gets_a_fresh_state(polyfn):
            assert polyfn.objects("done") == {} and polyfn.sent() == []
        """
    )
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


MARKED = """
import pytest

@pytest.mark.polyfn_providers
def test_everywhere(polyfn):
    polyfn.http("POST", "/jobs", json={"id": "j1"})
    polyfn.idle()
    assert polyfn.objects("done") == {"j1.json": b'{"id":"j1"}'}
    assert {r.provider for r in polyfn.deliveries} == {polyfn.provider or "neutral"}

@pytest.mark.polyfn_providers("aws", "gcp")
def test_some(polyfn):
    assert polyfn.provider in ("aws", "gcp")
"""


def test_the_marker_runs_a_test_once_per_provider(project):
    project.makepyfile(test_marked=MARKED)
    result = project.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "*test_everywhere[[]neutral[]] PASSED*",
            "*test_everywhere[[]aws[]] PASSED*",
            "*test_everywhere[[]azure[]] PASSED*",
            "*test_everywhere[[]gcp[]] PASSED*",
            "*test_some[[]aws[]] PASSED*",
            "*test_some[[]gcp[]] PASSED*",
        ]
    )


def test_polyfn_as_forces_one_provider(project):
    project.makepyfile(
        test_marked=MARKED,
        test_plain="""
        def test_plain(polyfn):
            assert polyfn.provider == "azure"
        """,
    )
    result = project.runpytest("-v", "-p", "no:cacheprovider", "--polyfn-as", "azure")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*test_everywhere[[]azure[]] PASSED*", "*test_some[[]azure[]]*"])


def test_a_failing_handler_fails_the_test_with_its_reason(project):
    project.makepyfile(
        test_fail="""
        def test_job_fails(polyfn):
            polyfn.send("jobs", {"id": "j9", "fail": True})
            polyfn.settle()

        def test_idle_does_not_hang_on_a_backoff(polyfn):
            polyfn.send("jobs", {"id": "j8", "fail": True})
            polyfn.idle()

        def test_failures_can_be_the_point(polyfn):
            polyfn.send("jobs", {"id": "j7", "fail": True})
            polyfn.settle(check=False)
            assert [m.json()["id"] for m in polyfn.dead_letters("jobs")] == ["j7"]
            assert len(polyfn.failures) == 3
            polyfn.idle()  # the failures allowed above are not reported again
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*HandlerFailed: 3 deliveries failed*",
            "*function 'job' [[]neutral[]] failed on a queue message from 'jobs': "
            "*job j9 exploded*dead-lettered to [[]'jobs-dlq'[]]*",
            "*HandlerFailed: 1 delivery failed*",
            "*function 'job' * job j8 exploded",
        ]
    )


def test_the_app_fixture_says_how_to_name_the_app(pytester):
    pytester.makepyfile("def test_x(polyfn):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no polyfn app to run: pass --polyfn-app module:attr*"])


def test_the_app_from_the_command_line_option(project):
    project.makeini("[pytest]\n")
    project.makepyfile(
        optionapp="""
        from polyfn import App
        app = App("other")
        @app.get("/hello")
        def hello(req, ctx):
            return {"hello": "world"}
        """,
        test_from_option="""
        def test_app_from_the_option(polyfn):
            assert polyfn.http("GET", "/hello").json() == {"hello": "world"}
        """,
    )
    project.runpytest("-p", "no:cacheprovider", "--polyfn-app", "optionapp:app").assert_outcomes(
        passed=1
    )


def test_the_plugin_imports_nothing_of_the_runtime():
    code = (
        "import sys, polyfn.testing.plugin\n"
        "loaded = [m for m in sys.modules if m.startswith(('polyfn.local', 'polyfn.app'))]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (90, 90.0),
        (timedelta(hours=1), 3600.0),
        ("1d", 86400.0),
        ("2h30m", 9000.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        (" 1w ", 604800.0),
    ],
)
def test_durations(given, expected):
    assert seconds(given) == expected


@pytest.mark.parametrize("bad", ["", "1x", "d", "1d junk", True])
def test_bad_durations(bad):
    with pytest.raises(ValueError, match="duration"):
        seconds(bad)


def test_factories_build_neutral_events():
    msg = factories.queue_message({"id": 1}, queue="orders", attributes={"kind": "order"})
    assert (msg.queue, msg.json(), msg.attributes, msg.delivery_count) == (
        "orders",
        {"id": 1},
        {"kind": "order"},
        1,
    )
    assert msg.id and msg.enqueued_at is not None
    assert factories.topic_message("hi", topic="news").text == "hi"
    assert factories.storage_event("a.txt", bucket="files").size == 0
    assert factories.change_event({"id": "x", "n": 1}, source="t").keys == {"id": "x"}
    assert factories.cloud_event({"a": 1}, source="shop", type="t").data == {"a": 1}
    assert factories.schedule_event("@daily").schedule == "@daily"
    req = factories.http_request("post", "/orders", json={"items": [1]})
    assert (req.method, req.json(), req.headers["content-type"]) == (
        "POST",
        {"items": [1]},
        "application/json",
    )


def test_from_sample_reads_official_events_through_the_adapter():
    messages = factories.from_sample("aws", "sqs__samcli__receive-message.json")
    assert messages and all(isinstance(m, QueueMessage) for m in messages)
    assert messages[0].provider == "aws"
    by_path = factories.from_sample(
        "aws", factories.sample_path("aws", "sqs__samcli__receive-message.json")
    )
    assert [m.id for m in by_path] == [m.id for m in messages]
    with pytest.raises(FileNotFoundError, match="POLYFN_SAMPLE_EVENTS"):
        factories.from_sample("aws", "nope.json")
