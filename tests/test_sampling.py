"""Sampled gauges: monitor.sample(), their schedule, failures and monitoring_sample."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import logging
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from monitoring import jobs
from monitoring.exceptions import AlreadyRegistered
from monitoring.models import Rollup, Sample
from monitoring.queries import get_series
from monitoring.register import monitor
from monitoring.sampling import SAMPLE_LISTENERS, SampledMonitor
from monitoring.storage.maintenance import prune, rebuild
from tests.conftest import start_worker

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
# A Monday, 12:00 UTC: aligned to every tick length used here.
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
T = T0.timestamp()


@pytest.fixture(autouse=True)
def _restore_jobs():
    """Keep the jobs each test registers (one per sampled gauge) to that test."""
    saved = dict(jobs.jobs)
    yield
    jobs.jobs.clear()
    jobs.jobs.update(saved)


@pytest.fixture
def reports():
    """Return the SampleReports of the test, in order."""
    seen = []
    SAMPLE_LISTENERS.append(seen.append)
    yield seen
    SAMPLE_LISTENERS.remove(seen.append)


def readings(name):
    return list(
        Sample.objects.filter(monitor=name).order_by("tick").values_list("value", flat=True)
    )


# -- registration ------------------------------------------------------------------


def test_sample_registers_a_gauge_and_its_job():
    handle = monitor.sample("pending", lambda: 3, every="5m", title="Pending", unit="orders")
    assert isinstance(handle, SampledMonitor)
    assert monitor.get("pending") is handle
    assert (handle.kind, handle.every, handle.timeout) == ("value", 300.0, 10.0)
    assert (handle.title, handle.unit, handle.dimension_names()) == ("Pending", "orders", [])
    assert jobs.jobs["sample:pending"].interval == 300.0
    monitor.unregister("pending")
    assert "sample:pending" not in jobs.jobs


def test_the_decorator_form_returns_the_function():
    @monitor.sample("queue_rows", every=dt.timedelta(minutes=1), timeout=None)
    def queue_rows():
        return 7

    assert queue_rows() == 7
    handle = monitor.get("queue_rows")
    assert handle.function is queue_rows
    assert (handle.every, handle.timeout) == (60.0, None)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"every": "5 minutes"}, ValueError, r"Monitor 'x': every must be seconds"),
        ({"every": 0}, ValueError, r"every must be more than zero"),
        # A reading a tick: stored to the second, and at a tick that is a time of now.
        ({"every": 0.001}, ValueError, r"every must be from 1 second to 366 days, not 0\.001"),
        ({"every": "0.5s"}, ValueError, r"every must be from 1 second to 366 days"),
        ({"every": 1e12}, ValueError, r"not 1000000000000\.0 \(1e\+12 s\)"),
        ({"every": 1e20}, ValueError, r"every must be from 1 second to 366 days"),
        ({"every": "367d"}, ValueError, r"every must be from 1 second to 366 days, not '367d'"),
        ({"every": dt.timedelta(days=400)}, ValueError, r"every must be from 1 second"),
        ({"every": "5m", "timeout": -1}, ValueError, r"timeout must be more than zero"),
        ({"every": "5m", "function": 3}, TypeError, r"the sampler 3 is not callable"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    function = kwargs.pop("function", lambda: 1)
    with pytest.raises(error, match=message):
        monitor.sample("x", function, **kwargs)
    assert not monitor.is_registered("x")
    assert "sample:x" not in jobs.jobs


@pytest.mark.parametrize("every", [1, "1s", "366d", dt.timedelta(days=366)])
def test_every_from_a_second_to_366_days_is_taken(every):
    handle = monitor.sample("x", lambda: 1, every=every, timeout=None)
    now = dt.datetime(2024, 6, 3, 12, 0, 30, tzinfo=dt.timezone.utc).timestamp()
    assert handle.tick(now).year >= 2023  # a tick of this era, not of 1970


def test_names_are_checked_like_any_monitor():
    with pytest.raises(AlreadyRegistered, match="'orders' is already registered"):
        monitor.sample("orders", lambda: 1, every="1m")
    with pytest.raises(ValueError, match="is not a slug"):
        monitor.sample("not a slug", lambda: 1, every="1m")


def test_add_says_how_to_take_a_reading():
    handle = monitor.sample("pending", lambda: 3, every="5m")
    with pytest.raises(TypeError, match=r"sampled gauge.*monitor.get\('pending'\).sample\(\)"):
        handle.add(4)


# -- sampling ----------------------------------------------------------------------


def test_one_reading_per_tick_with_its_rollups(reports):
    values = iter([5, 6, 7])
    handle = monitor.sample("pending", lambda: next(values), every="5m", timeout=None)
    assert handle.sample(now=T + 10).outcome == "ok"
    assert handle.sample(now=T + 299).outcome == "taken"  # same tick: kept
    assert handle.sample(now=T + 300).outcome == "ok"
    assert readings("pending") == [5.0, 6.0]  # a taken tick does not call the sampler
    assert [r.outcome for r in reports] == ["ok", "taken", "ok"]
    assert reports[0].at == T0
    assert Rollup.objects.get(monitor="pending", resolution="hour").count == 2
    series = get_series("pending", start=T0, end=T0 + dt.timedelta(minutes=10), resolution="5min")
    assert series.values["last"] == [5.0, 6.0]
    assert series.summary == 6.0


def test_the_taken_check_does_not_call_the_sampler_again():
    calls = []
    handle = monitor.sample("pending", lambda: calls.append(1) or 1, every="5m", timeout=None)
    handle.sample(now=T)
    handle.sample(now=T + 1)
    assert calls == [1]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda: 1 / 0, "Sampler 'bad' raised ZeroDivisionError: division by zero"),
        (lambda: "12", "Sampler 'bad' returned '12', not a finite number"),
        (lambda: True, "returned True, not a finite number"),
        (lambda: float("nan"), "returned nan, not a finite number"),
        (lambda: None, "returned None, not a finite number"),
        (lambda: 10**400, "0000, not a finite number; nothing recorded"),
        (lambda: decimal.Decimal("sNaN"), "returned Decimal('sNaN'), not a finite number"),
    ],
)
def test_a_failing_sampler_is_logged_reported_and_skipped(function, message, reports, caplog):
    handle = monitor.sample("bad", function, every="1m")
    with caplog.at_level(logging.WARNING, logger="monitoring.sampling"):
        report = handle.sample(now=T)
    assert report.outcome == "failed"
    assert message in report.error
    assert message in caplog.text
    assert readings("bad") == []
    assert reports == [report]


def test_a_decimal_is_a_number():
    from decimal import Decimal

    handle = monitor.sample("money", lambda: Decimal("2.50"), every="1m")
    assert handle.sample(now=T).value == 2.5


def test_a_sampler_past_its_timeout_is_skipped_and_not_started_twice(reports):
    release = threading.Event()
    started = []

    def slow():
        started.append(1)
        release.wait(10)
        return 1

    handle = monitor.sample("slow", slow, every="1m", timeout=0.2)
    try:
        first = handle.sample(now=T)
        assert first.outcome == "timeout"
        assert "ran past its timeout of 0.2 s" in first.error
        # The next tick, the first call still runs: it is not started a second time.
        second = handle.sample(now=T + 60)
        assert second.outcome == "skipped"
        assert "still running from an earlier tick" in second.error
        assert started == [1]
    finally:
        release.set()
    handle._running.join(5)
    assert handle.sample(now=T + 120).outcome == "ok"
    assert readings("slow") == [1.0]


def test_without_timeout_the_sampler_runs_on_the_calling_thread():
    threads = []
    handle = monitor.sample(
        "here", lambda: threads.append(threading.current_thread()) or 1, every="1m", timeout=None
    )
    handle.sample(now=T)
    assert threads == [threading.current_thread()]
    other = monitor.sample(
        "there", lambda: threads.append(threading.current_thread()) or 1, every="1m"
    )
    other.sample(now=T)
    assert threads[1] is not threading.current_thread()
    assert threads[1].name == "monitoring-sample-there"


def test_failures_are_counted_in_the_health_series():
    # Health points are stamped with the real clock, as flush reports are.
    monitor.sample("bad", lambda: 1 / 0, every="1m").sample(now=T)
    monitor.sample("good", lambda: 1, every="1m", timeout=None).sample(now=T)
    series = get_series("monitoring_samples", split_by="outcome")
    assert {g.label: g.total for g in series.groups} == {"failed": 1, "ok": 1}


def test_jobs_sample_each_tick_once_and_a_failure_stops_no_other(caplog, monkeypatch):
    clock = {"now": T + 1}
    # A job's function takes no arguments: a sampler reads the tick from the clock.
    monkeypatch.setattr(time, "time", lambda: clock["now"])
    saved = dict(jobs.jobs)
    jobs.jobs.clear()
    try:
        monitor.sample("bad", lambda: 1 / 0, every="1m")
        monitor.sample("good", lambda: 4, every="1m", timeout=None)
        with caplog.at_level(logging.WARNING, logger="monitoring.sampling"):
            ran = jobs.run_due(now=T + 1)
        assert sorted(ran) == ["sample:bad", "sample:good"]
        assert "raised ZeroDivisionError" in caplog.text
        assert readings("good") == [4.0]
        assert jobs.run_due(now=T + 2) == []  # the same tick: not looked at again
        clock["now"] = T + 61
        assert sorted(jobs.run_due(now=T + 61)) == ["sample:bad", "sample:good"]
        assert readings("good") == [4.0, 4.0]
    finally:
        jobs.jobs.clear()
        jobs.jobs.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_sampler_on_its_thread_reads_the_database():
    from test_app.models import Order

    Order.objects.create(total=1, paid=False)
    Order.objects.create(total=1, paid=False)
    handle = monitor.get("unpaid_orders")  # the demo's, a decorated function
    assert handle.timeout == 10.0
    report = handle.sample(now=T)
    assert (report.outcome, report.value) == ("ok", 2.0)


@pytest.mark.django_db(transaction=True)
def test_two_processes_sampling_the_same_tick_write_one_reading():
    start_at = time.time() + 4
    workers = [start_worker("sample_worker.py", start_at, n) for n in (1, 2)]
    outcomes = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["ok", "taken"]
    assert Sample.objects.filter(monitor="race").count() == 1
    hour = Rollup.objects.get(monitor="race", resolution="hour")
    assert hour.count == 1
    assert hour.last == Sample.objects.get(monitor="race").value


# -- reading: the same card, page, JSON and CSV as other gauges --------------------------


def test_json_csv_and_card(staff_client_at):
    client = staff_client_at(T0 + dt.timedelta(minutes=30))
    values = iter([3, 5])
    monitor.sample("pending", lambda: next(values), every="5m", timeout=None, unit="orders")
    monitor.get("pending").sample(now=T)
    monitor.get("pending").sample(now=T + 600)
    url = reverse("monitoring:monitor", args=["pending"])
    data = client.get(url, {"format": "json", "range": "1h", "resolution": "5min"}).json()
    assert data["kind"] == "value"
    assert data["summary"]["value"] == 5.0
    assert [v for v in data["values"]["last"] if v is not None] == [3.0, 5.0]
    csv_text = client.get(url, {"format": "csv", "range": "1h", "resolution": "5min"})
    assert csv_text.content.decode().splitlines()[0] == "start,avg,min,max,last"
    card = client.get(url, {"format": "card", "range": "1h"}).content.decode()
    assert 'data-state="ready"' in card
    assert client.get(url).status_code == 200


# -- maintenance -------------------------------------------------------------------


def test_prune_deletes_old_readings_and_rebuild_leaves_sampled_gauges_alone():
    handle = monitor.sample("pending", lambda: 1, every="1m", timeout=None)
    handle.sample(now=T)
    handle.sample(now=T + 86400 * 40)
    result = prune(now=T0 + dt.timedelta(days=41))
    assert result["monitoring.Sample (raw)"] == 1
    assert readings("pending") == [1.0]
    assert "pending" not in rebuild([handle])


# -- the command ---------------------------------------------------------------------


def test_command_samples_every_gauge_or_those_named(freeze_now):
    freeze_now(T0)
    monitor.sample("a", lambda: 1, every="1m", timeout=None)
    monitor.sample("b", lambda: 2, every="1m", timeout=None)
    out = io.StringIO()
    call_command("monitoring_sample", "b", stdout=out)
    assert readings("a") == []
    assert readings("b") == [2.0]
    assert out.getvalue().startswith("b: 2 at ")
    out = io.StringIO()
    call_command("monitoring_sample", stdout=out)
    assert readings("a") == [1.0]
    assert "has its reading already" in out.getvalue()  # b, same tick


def test_command_errors_name_the_problem():
    monitor.sample("pending", lambda: 1, every="1m", timeout=None)
    with pytest.raises(CommandError, match="No monitor named 'pendng'. Did you mean 'pending'"):
        call_command("monitoring_sample", "pendng")
    with pytest.raises(CommandError, match="'orders' is not a sampled gauge.*: .*pending"):
        call_command("monitoring_sample", "orders")


def test_command_reports_a_failing_sampler_after_sampling_the_others():
    monitor.sample("bad", lambda: 1 / 0, every="1m")
    monitor.sample("good", lambda: 1, every="1m", timeout=None)
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"1 sampler\(s\) failed: bad"):
        call_command("monitoring_sample", stdout=io.StringIO(), stderr=err)
    assert "raised ZeroDivisionError" in err.getvalue()
    assert readings("good") == [1.0]


def test_prometheus_exports_the_last_reading(client):
    from tests.test_metrics import families, samples, scrape

    values = iter([3, 8])
    handle = monitor.sample("pending", lambda: next(values), every="5m", timeout=None)
    handle.sample(now=T)
    handle.sample(now=T + 300)
    found = families(scrape(client))
    assert found["monitoring_pending"].type == "gauge"
    assert samples(found["monitoring_pending"]) == {(): 8}
    assert samples(found["monitoring_pending_readings"], "_count") == {(): 2}


def test_readings_without_use_tz(settings, staff_client_at):
    settings.USE_TZ = False
    client = staff_client_at(T0 + dt.timedelta(minutes=30))
    handle = monitor.sample("pending", lambda: 4, every="5m", timeout=None)
    assert handle.sample(now=T).outcome == "ok"
    assert handle.sample(now=T + 1).outcome == "taken"
    # Stored as the site's wall clock (Berlin, two hours ahead in June).
    assert Sample.objects.get(monitor="pending").created == dt.datetime(2024, 6, 3, 14, 0)
    url = reverse("monitoring:monitor", args=["pending"])
    data = client.get(url, {"format": "json", "range": "1h", "resolution": "5min"}).json()
    assert data["summary"]["value"] == 4.0
    assert data["points"][6] == {"start": "2024-06-03T14:00:00+02:00", "value": 4.0}


def test_without_use_tz_both_ticks_of_the_repeated_hour_keep_their_reading(settings):
    # Berlin's clocks go back at 03:00 CEST on 2024-10-27: 02:30 happens twice, at 00:30
    # and at 01:30 UTC. The two ticks are different readings, though their wall clock
    # (what is stored without USE_TZ) is the same.
    settings.USE_TZ = False
    first = dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC).timestamp()
    values = iter([1, 2])
    handle = monitor.sample("pending", lambda: next(values), every="30m", timeout=None)
    assert handle.sample(now=first).outcome == "ok"
    assert handle.sample(now=first + 3600).outcome == "ok"
    assert handle.sample(now=first + 3601).outcome == "taken"
    assert readings("pending") == [1.0, 2.0]
    assert [row.created for row in Sample.objects.order_by("tick")] == [
        dt.datetime(2024, 10, 27, 2, 30),
        dt.datetime(2024, 10, 27, 2, 30),
    ]
    assert Rollup.objects.get(monitor="pending", resolution="day").count == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "use_tz, created",
    [
        (True, dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)),
        # Berlin's wall clock, two hours ahead in June. (A wall-clock time of the repeated
        # hour is the instant the database reads it as: SQLite's first, PostgreSQL's second.)
        (False, dt.datetime(2024, 6, 3, 14, 0)),
    ],
)
def test_the_tick_migration_gives_existing_readings_their_tick(settings, use_tz, created):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    settings.USE_TZ = use_tz
    before = [("monitoring", "0004_alerts")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("monitoring", "Sample")
    old.objects.create(monitor="pending", created=created, value=3)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    row = Sample.objects.get()
    assert (row.monitor, row.value, row.created) == ("pending", 3.0, created)
    assert row.tick == T
