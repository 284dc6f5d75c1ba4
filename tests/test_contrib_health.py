"""monitoring.contrib.health: each process's flushes, reported as points the rollups sum."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.test.utils import isolate_apps

from monitoring.contrib.health import report as health
from monitoring.contrib.health.models import FlushLag, FlushTime, PointCount
from monitoring.models import FloatValueBase
from monitoring.register import monitor
from monitoring.storage.buffer import FLUSH_LISTENERS, FlushReport
from monitoring.views import ValueView
from test_app.models import MonitorUserCount
from tests.test_storage import POISON_NS, T0, database_down

pytestmark = pytest.mark.django_db(transaction=True)


def outcomes():
    totals: dict[str, int] = {}
    for row in PointCount.objects.all():
        totals[row.outcome] = totals.get(row.outcome, 0) + row.value
    return totals


@pytest.fixture
def fresh(buffered):
    """The health listener on (the buffered fixture turns listeners off), nothing pending."""
    health._own["pending"] = 0
    health.listen()
    yield
    health._own["pending"] = 0


def test_the_app_listens_to_every_flush():
    assert health.record in FLUSH_LISTENERS


def test_a_flush_is_reported_by_the_next_one_and_an_idle_buffer_adds_nothing(buffered, fresh):
    for _ in range(5):
        MonitorUserCount.add(1)
    assert buffered.flush() == 5
    assert MonitorUserCount.objects.count() == 5
    assert PointCount.objects.count() == 0  # the report waits in the buffer
    buffered.flush()  # writes the report; its own points are not reported again
    assert outcomes() == {"taken": 5, "written": 5}
    assert FlushTime.objects.count() == 1
    assert FlushLag.objects.count() == 0  # the process's first flush waited for nothing
    assert buffered.flush() == 0
    assert PointCount.objects.count() == 2  # idle: nothing new

    MonitorUserCount.add(1)
    buffered.flush()
    buffered.flush()
    assert outcomes() == {"taken": 6, "written": 6}
    assert FlushTime.objects.count() == 2
    assert FlushLag.objects.count() == 1
    assert FlushLag.objects.get().value >= 0


def test_refused_and_dropped_points_are_reported(buffered, fresh):
    health.record(FlushReport(taken=0, written=0, rejected=2, dropped=3, seconds=0.0015, lag=2.0))
    buffered.flush()
    assert outcomes() == {"rejected": 2, "dropped": 3}
    assert FlushTime.objects.get().value == pytest.approx(1.5)
    assert FlushLag.objects.get().value == pytest.approx(2000)


# -- real rejections and drops, through the buffer and its flushes -------------------------


def test_points_of_a_monitor_without_a_table_reach_the_health_series_as_rejected(buffered, fresh):
    with isolate_apps("test_app"):

        class MonitorNoTable(FloatValueBase):
            class Meta:
                app_label = "test_app"

    monitor.register("no_table", ValueView.as_view(model=MonitorNoTable))
    for _ in range(2):
        MonitorNoTable.add(1.5, at=T0)
    for _ in range(3):
        MonitorUserCount.add(1, at=T0)
    assert buffered.flush() == 3
    buffered.flush()  # writes the report
    assert buffered.stats()["rejected_reasons"] == {"no table": 2}
    assert outcomes() == {"taken": 5, "written": 3, "rejected": 2}


def test_a_point_the_database_cannot_take_reaches_the_health_series_as_rejected(buffered, fresh):
    for _ in range(4):
        MonitorUserCount.add(1, at=T0)
    buffered.add(MonitorUserCount, 1, POISON_NS, None)
    assert buffered.flush() == 4
    buffered.flush()
    assert buffered.stats()["rejected_reasons"] == {"write error": 1}
    assert outcomes() == {"taken": 5, "written": 4, "rejected": 1}


def test_points_dropped_by_a_full_buffer_reach_the_health_series(buffered, fresh):
    with override_settings(
        MONITORING_BUFFER_MAX=5, MONITORING_BUFFER_SIZE=5, MONITORING_BUFFER_WAIT=0.2
    ):
        MonitorUserCount.add(1, at=T0)  # starts the flusher
        # A flusher stuck in a write: hold its lock, as a hung database would.
        buffered._flush_lock.acquire()
        try:
            for _ in range(6):
                MonitorUserCount.add(1, at=T0)
        finally:
            buffered._flush_lock.release()
        assert buffered.stats()["dropped_reasons"] == {"buffer full (flusher too slow)": 2}
        buffered.flush()
        buffered.flush()
    assert MonitorUserCount.objects.count() == 5
    assert outcomes() == {"taken": 5, "written": 5, "dropped": 2}


def test_points_dropped_while_the_database_is_unavailable_reach_the_health_series(buffered, fresh):
    # MONITORING_BUFFER_SIZE equal to the bound: only a full buffer would wake the flusher,
    # and it doesn't while the database is unavailable, so every flush is this thread's.
    with override_settings(MONITORING_BUFFER_MAX=5, MONITORING_BUFFER_SIZE=5):
        MonitorUserCount.add(1, at=T0)
        with database_down():
            assert buffered.flush() == 0
            # The failed flush took one point and kept it: its report adds two health
            # points (taken, flush time), so the buffer holds 3 and has room for 2 more.
            assert len(buffered) == 3
            for _ in range(7):
                MonitorUserCount.add(1, at=T0)
            assert buffered.stats()["dropped_reasons"] == {"database unavailable": 5}
        assert buffered.flush() == 5
        buffered.flush()
    assert MonitorUserCount.objects.count() == 3
    # "taken" counts the kept point twice: it was taken by the failed flush and the next.
    assert outcomes() == {"taken": 4, "written": 3, "dropped": 5}


def test_a_failing_listener_never_stops_a_flush(buffered, fresh, caplog):
    def broken(report):
        raise RuntimeError("the listener is on fire")

    FLUSH_LISTENERS.append(broken)
    try:
        MonitorUserCount.add(1)
        assert buffered.flush() == 1
    finally:
        FLUSH_LISTENERS.remove(broken)
    assert "A flush listener failed." in caplog.text


def test_the_monitors_are_in_their_own_category():
    names = [h.name for h in monitor if h.category == "Monitoring"]
    assert names == [
        "monitoring_points",
        "monitoring_flush_time",
        "monitoring_flush_lag",
        "monitoring_samples",
    ]
