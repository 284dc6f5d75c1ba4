"""monitoring.contrib.health: each process's flushes, reported as points the rollups sum."""

from __future__ import annotations

import pytest

from monitoring.contrib.health import report as health
from monitoring.contrib.health.models import FlushLag, FlushTime, PointCount
from monitoring.register import monitor
from monitoring.storage.buffer import FLUSH_LISTENERS, FlushReport
from test_app.models import MonitorUserCount

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
