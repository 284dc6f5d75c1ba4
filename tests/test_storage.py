"""The write path: buffer, flush triggers, sync mode, rollups, faults."""

import contextlib
import datetime as dt
import logging
import math
import os
import subprocess
import sys
import threading
import time
import warnings

import pytest
from asgiref.sync import async_to_sync
from django.db import connection, transaction
from django.db.models import Sum
from django.test import AsyncClient, override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from monitoring import storage
from monitoring.models import Rollup, RollupBin
from monitoring.queries import get_series
from monitoring.register import monitor
from monitoring.storage import buffer
from monitoring.storage.rollups import GAMMA, bin_of, bin_value
from test_app.models import MonitorOrderCount, MonitorQueueLength, MonitorUserCount
from tests.conftest import ROOT, reported_losses, start_worker, worker_env

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


def rollup(name, resolution, **filters):
    """Return the one rollup row of ``name`` at ``resolution`` (and ``filters``)."""
    return Rollup.objects.get(monitor=name, resolution=resolution, **filters)


def total(name, resolution="hour"):
    return Rollup.objects.filter(monitor=name, resolution=resolution).aggregate(
        count=Sum("count"), sum=Sum("sum")
    )


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- rollups -------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_mode_writes_raw_row_and_rollups_inside_add():
    monitor.get("user_count").add(3, at=T0 + dt.timedelta(seconds=30))
    assert MonitorUserCount.objects.get().value == 3
    assert buffer.stats()["pending"] == 0
    start = int(T0.timestamp())
    for resolution in ("minute", "hour"):
        row = rollup("user_count", resolution)
        assert (row.start, row.count, row.sum, row.min, row.max, row.last) == (
            start,
            1,
            3,
            3,
            3,
            3,
        )
        assert row.dimensions == ""
    # T0 is 14:00 in Berlin: the day bucket starts at local midnight, 22:00 UTC the day before.
    assert rollup("user_count", "day").start == int(
        dt.datetime(2024, 6, 2, 22, tzinfo=UTC).timestamp()
    )


@pytest.mark.django_db
def test_upserts_add_up_and_keep_min_max_and_the_latest_value():
    queue = monitor.get("queue_length")
    queue.add(5, at=T0 + dt.timedelta(minutes=10))
    queue.add(9, at=T0 + dt.timedelta(minutes=40))
    queue.add(2, at=T0 + dt.timedelta(minutes=20))  # added last, but not the latest reading
    row = rollup("queue_length", "hour")
    assert (row.count, row.sum, row.min, row.max, row.last) == (3, 16, 2, 9, 9)
    assert row.last_at == int((T0 + dt.timedelta(minutes=40)).timestamp()) * 1_000_000
    assert MonitorQueueLength.objects.count() == 3


@pytest.mark.django_db
def test_dimensions_are_a_canonical_key_with_defaults_filled_in():
    orders = monitor.get("orders")
    orders.add(1, at=T0, plan="pro")
    orders.add(2, at=T0)  # plan defaults to "free"
    keys = set(
        Rollup.objects.filter(monitor="orders", resolution="hour").values_list("dimensions", "sum")
    )
    assert keys == {('{"plan":"pro"}', 1.0), ('{"plan":"free"}', 2.0)}
    assert MonitorOrderCount.objects.get(value=2).plan == "free"


@pytest.mark.django_db
def test_durations_keep_histogram_bins_that_merge():
    timings = monitor.get("request_time")
    for ms in (10.0, 10.2, 100.0):
        timings.add(ms, at=T0)
    bins = dict(
        RollupBin.objects.filter(monitor="request_time", resolution="minute").values_list(
            "bin", "count"
        )
    )
    assert bins == {bin_of(10.0): 2, bin_of(100.0): 1}
    assert rollup("request_time", "minute").count == 3


@pytest.mark.django_db
def test_a_model_without_a_monitor_gets_raw_rows_only():
    monitor.unregister("queue_length")
    MonitorQueueLength.add(4, at=T0)
    assert MonitorQueueLength.objects.get().value == 4
    assert not Rollup.objects.exists()


@given(st.floats(min_value=1e-3, max_value=1e12, allow_nan=False))
def test_histogram_bins_are_within_five_percent(value):
    assert abs(bin_value(bin_of(value)) - value) / value <= 0.05


def test_histogram_bins_are_log_spaced():
    assert bin_of(1.0) == 0
    assert bin_of(GAMMA * 1.0001) == 1
    assert bin_of(0.0) == bin_of(1e-9)  # the zero bin
    assert bin_value(bin_of(0.0)) == 0.0
    assert math.isclose(bin_value(1) / bin_value(0), GAMMA)


# -- the buffer and its flush triggers ----------------------------------------------

pytestmark_buffered = pytest.mark.django_db(transaction=True)


@pytestmark_buffered
def test_buffered_add_writes_nothing_until_monitor_flush(buffered):
    for _ in range(3):
        monitor.get("user_count").add(1, at=T0)
    assert MonitorUserCount.objects.count() == 0
    assert monitor.stats()["pending"] == 3
    assert monitor.flush() == 3
    assert MonitorUserCount.objects.count() == 3
    assert rollup("user_count", "hour").count == 3
    assert monitor.stats()["pending"] == 0
    assert monitor.stats()["written"] == 3
    assert monitor.flush() == 0


def points_of_two_monitors():
    ns = int(T0.timestamp() * 1e9)
    return (
        (MonitorUserCount._point_key, 2, ns, None),
        (MonitorOrderCount._point_key, 5, ns, ("pro",)),
    )


@pytest.mark.django_db
def test_record_points_writes_at_once_in_synchronous_mode():
    storage.record_points(points_of_two_monitors())
    assert rollup("user_count", "hour").sum == 2
    assert [(row.plan, row.value) for row in MonitorOrderCount.objects.all()] == [("pro", 5)]


@pytestmark_buffered
def test_record_points_buffers_them_all_and_a_full_buffer_wakes_the_flusher(buffered):
    with override_settings(MONITORING_BUFFER_SIZE=4):
        storage.record_points(points_of_two_monitors())
        assert monitor.stats()["pending"] == 2
        assert MonitorUserCount.objects.count() == 0
        storage.record_points(points_of_two_monitors())  # 4 pending: the size
        assert wait_for(lambda: MonitorOrderCount.objects.count() == 2)
    assert rollup("user_count", "hour").sum == 4


@pytestmark_buffered
def test_the_background_thread_starts_lazily_as_a_daemon(buffered):
    assert not buffered.stats()["thread_alive"]
    monitor.get("user_count").add(1)
    assert buffered.stats()["thread_alive"]
    assert buffered._thread.daemon


@pytestmark_buffered
def test_timer_flush(buffered):
    with override_settings(MONITORING_FLUSH_INTERVAL=0.05):
        monitor.get("user_count").add(2, at=T0)
        assert wait_for(lambda: MonitorUserCount.objects.count() == 1)
    assert rollup("user_count", "hour").sum == 2


@pytestmark_buffered
def test_size_flush_wakes_the_thread(buffered):
    with override_settings(MONITORING_BUFFER_SIZE=10):
        for _ in range(9):
            monitor.get("user_count").add(1, at=T0)
        time.sleep(0.2)
        assert MonitorUserCount.objects.count() == 0  # below the size, the timer is an hour
        monitor.get("user_count").add(1, at=T0)
        assert wait_for(lambda: MonitorUserCount.objects.count() == 10)
    assert rollup("user_count", "hour").count == 10


@pytestmark_buffered
@override_settings(ROOT_URLCONF="tests.urls_storage")
def test_a_request_that_adds_does_no_database_work_and_wakes_the_flusher(buffered, client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/add/").content == b"added"
    assert len(queries) == 0  # the flusher writes on its own thread and connection
    assert wait_for(lambda: MonitorUserCount.objects.count() == 1)
    assert wait_for(lambda: buffered.stats()["pending"] == 0)


@pytestmark_buffered
@override_settings(ROOT_URLCONF="tests.urls_storage")
def test_an_async_request_that_adds_wakes_the_flusher(buffered):
    async def fetch():
        return await AsyncClient().get("/add-async/")

    response = async_to_sync(fetch)()
    assert response.content == b"added"
    assert wait_for(lambda: MonitorUserCount.objects.count() == 1)


@pytestmark_buffered
@pytest.mark.slow
def test_exit_flush_writes_what_a_process_left_behind():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "storage_worker.py"), "50"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert MonitorOrderCount.objects.count() == 50
    assert total("orders")["count"] == 50
    assert total("request_time")["count"] == 50


@pytestmark_buffered
def test_the_thread_restarts_in_a_forked_child(buffered):
    monitor.get("user_count").add(1, at=T0)
    assert buffered.stats()["thread_alive"]
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads; that is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            before = buffer.stats()
            buffer.add(MonitorUserCount, 1, 0, None)
            after = buffer.stats()
            message = f"{before['pending']} {before['thread_alive']} {after['thread_alive']}"
            os.write(write, message.encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        assert pipe.read() == "0 False True"
    assert buffered.stats()["pending"] == 1  # the parent keeps (and flushes) its own points
    assert monitor.flush() == 1


# -- faults ------------------------------------------------------------------------


@contextlib.contextmanager
def database_down():
    """Make the test database unreachable for this thread's new connections, then mend it."""
    connection.close()
    settings = connection.settings_dict
    saved = dict(settings)
    if connection.vendor == "sqlite":
        settings["NAME"] = "/nonexistent-directory/monitoring.sqlite3"
    else:
        settings["PORT"] = "1"  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        settings.clear()
        settings.update(saved)


@pytestmark_buffered
def test_a_database_failing_for_several_flushes_loses_nothing(buffered, caplog):
    for i in range(20):
        monitor.get("user_count").add(1, at=T0 + dt.timedelta(minutes=i))
    with (
        database_down(),
        caplog.at_level(logging.WARNING, logger="monitoring.storage"),
    ):
        for _ in range(3):
            assert monitor.flush() == 0  # never raises
            monitor.get("user_count").add(1, at=T0)
    stats = monitor.stats()
    assert stats["failed_flushes"] == 3
    assert stats["pending"] == 23
    assert stats["healthy"] is False
    assert stats["rejected"] == 0
    assert "database is unavailable" in caplog.text
    assert MonitorUserCount.objects.count() == 0
    assert monitor.flush() == 23
    assert monitor.stats()["healthy"] is True
    assert MonitorUserCount.objects.count() == 23
    assert total("user_count")["count"] == 23
    assert total("user_count", "day")["sum"] == 23


@pytest.mark.django_db(transaction=True)
def test_sync_mode_keeps_a_point_while_the_database_is_unavailable():
    buffer.reset()
    with database_down():
        monitor.get("user_count").add(1, at=T0)  # no exception reaches the caller
        assert monitor.stats()["pending"] == 1
    assert monitor.flush() == 1
    assert rollup("user_count", "hour").count == 1
    buffer.reset()


@pytestmark_buffered
def test_points_past_the_bound_are_dropped_only_while_the_database_fails(buffered, caplog):
    with (
        override_settings(MONITORING_BUFFER_MAX=5, MONITORING_BUFFER_SIZE=5),
        caplog.at_level(logging.WARNING, logger="monitoring.storage"),
    ):
        monitor.get("user_count").add(1, at=T0)
        with database_down():
            assert monitor.flush() == 0
            for _ in range(7):
                monitor.get("user_count").add(1, at=T0)
            stats = monitor.stats()  # read while down: the flusher retries once it is back
        assert stats["dropped"] == 3
        assert stats["dropped_reasons"] == {"database unavailable": 3}
        assert stats["pending"] == 5
        assert "dropped 1 data points (database unavailable" in caplog.text  # once per interval
        assert reported_losses(caplog.text) == ["Monitoring dropped 1 data points"]
        monitor.flush()
        assert wait_for(lambda: MonitorUserCount.objects.count() == 5)


@pytestmark_buffered
def test_failed_flushes_keep_the_bound_keeping_the_oldest(buffered):
    with override_settings(MONITORING_BUFFER_MAX=10, MONITORING_BUFFER_SIZE=10):
        for i in range(8):
            monitor.get("user_count").add(1, at=T0 + dt.timedelta(minutes=i))
        with database_down():
            assert monitor.flush() == 0
            for i in range(4):
                monitor.get("user_count").add(2, at=T0 + dt.timedelta(hours=1, minutes=i))
            assert monitor.flush() == 0  # put back before the newer ones
            assert monitor.stats()["pending"] == 10
            assert monitor.dropped == 2
        monitor.flush()
        assert wait_for(lambda: total("user_count")["count"] == 10)
    # The oldest points stayed; the two newest went.
    minutes = Rollup.objects.filter(monitor="user_count", resolution="minute")
    starts = sorted(minutes.values_list("start", flat=True))
    assert starts[0] == int(T0.timestamp())
    assert starts[-1] == int(T0.timestamp()) + 3600 + 60


# -- threads -------------------------------------------------------------------------

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite_file, id="sqlite-file"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgresql"),
]


def _check_totals(points):
    """Assert orders and request_time hold exactly ``points`` points, raw and rolled up."""
    assert MonitorOrderCount.objects.count() == points
    for resolution in ("minute", "hour", "day"):
        assert total("orders", resolution) == {"count": points, "sum": points}
        assert total("request_time", resolution)["count"] == points
        bins = RollupBin.objects.filter(monitor="request_time", resolution=resolution)
        assert bins.aggregate(n=Sum("count"))["n"] == points


@pytestmark_buffered
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["buffered", "sync"])
def test_exact_totals_with_8_threads(backend, mode, buffered):
    per_thread = 100 if mode == "sync" else 2000
    errors = []

    def work(n):
        try:
            orders, timings = monitor.get("orders"), monitor.get("request_time")
            for i in range(per_thread):
                at = T0 + dt.timedelta(seconds=(i % 3) * 30)
                orders.add(1, at=at, plan=["free", "pro"][i % 2])
                timings.add(float(i % 50 + 1), at=at)
                if mode == "buffered" and i % 250 == n:
                    monitor.flush()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    settings = {"MONITORING_BUFFER": mode == "buffered", "MONITORING_BUFFER_SIZE": 500}
    with override_settings(**settings):
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        monitor.flush()
    assert errors == []
    assert monitor.stats()["pending"] == 0
    _check_totals(8 * per_thread)


@pytestmark_buffered
@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_totals_with_4_processes(backend):
    per_process = 3000
    workers = [
        start_worker("storage_worker.py", per_process, "--size", 400, "--flush-every", 700)
        for _ in range(4)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        assert "added 3000" in out
    _check_totals(4 * per_process)
    # Each worker added the same values at the same instants: the upserts merged them.
    minute = rollup("request_time", "minute", start=int(T0.timestamp()))
    assert minute.min == 1.0 and minute.max == 100.0


@pytestmark_buffered
@pytest.mark.sqlite_file
def test_a_locked_sqlite_file_fails_flushes_until_the_lock_goes(buffered):
    import sqlite3

    for _ in range(5):
        monitor.get("user_count").add(1, at=T0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 50")  # fail fast instead of waiting 30 s
    locker = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        assert monitor.flush() == 0
        assert monitor.flush() == 0
        assert "locked" in monitor.stats()["last_error"]
        locker.execute("COMMIT")
    finally:
        locker.close()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 30000")
    assert monitor.stats()["failed_flushes"] == 2
    assert monitor.flush() == 5
    assert MonitorUserCount.objects.count() == 5
    assert total("user_count")["count"] == 5


@pytestmark_buffered
@pytest.mark.parametrize(
    "settings",
    [
        {"MONITORING_BUFFER_SIZE": 0},
        {"MONITORING_BUFFER_MAX": "lots"},
        {"MONITORING_FLUSH_INTERVAL": None},
    ],
)
def test_bad_buffer_settings_fall_back_to_defaults_instead_of_raising(buffered, settings):
    with override_settings(**settings):
        monitor.get("user_count").add(1, at=T0)  # checks E006/E007 report the setting
        assert monitor.flush() == 1


@pytestmark_buffered
def test_a_process_reads_its_own_buffered_points(buffered):
    monitor.get("user_count").add(2, at=T0)
    series = get_series("user_count", start=T0, end=T0 + dt.timedelta(hours=1))
    assert series.summary == 2
    assert buffered.stats()["pending"] == 0


@pytestmark_buffered
def test_reading_inside_a_transaction_leaves_the_buffer_alone(buffered):
    monitor.get("user_count").add(2, at=T0)
    with transaction.atomic():
        series = get_series("user_count", start=T0, end=T0 + dt.timedelta(hours=1))
    assert series.summary == 0
    assert buffered.stats()["pending"] == 1


# A point add() would refuse, put straight into the buffer: it stands for any point
# the writer itself trips over (a bug, or a value the database layer can't take).
# Its time is in the year 11476, which no datetime can hold.
POISON_NS = 300_000_000_000 * 10**9


@pytestmark_buffered
def test_a_point_that_cannot_be_written_is_rejected_alone(buffered, caplog):
    for i in range(10):
        monitor.get("user_count").add(1, at=T0 + dt.timedelta(minutes=i))
    buffer.add(MonitorUserCount, 1, POISON_NS, None)
    for _ in range(5):
        monitor.get("orders").add(2, at=T0, plan="pro")
    with caplog.at_level(logging.WARNING, logger="monitoring.storage"):
        assert monitor.flush() == 15
    stats = monitor.stats()
    assert stats["rejected"] == 1
    assert stats["rejected_reasons"] == {"write error": 1}
    assert stats["pending"] == 0
    assert stats["failed_flushes"] == 0
    assert "rejected a data point of test_app.MonitorUserCount" in caplog.text
    assert MonitorUserCount.objects.count() == 10
    assert total("user_count")["count"] == 10
    assert total("orders")["sum"] == 10
    # Nothing is left to block the next flush.
    monitor.get("user_count").add(1, at=T0)
    assert monitor.flush() == 1


def test_importing_the_write_path_registers_no_hooks():
    code = (
        "import atexit, django.conf, django.db, logging\n"
        "django.conf.settings.configure()\n"
        "before = atexit._ncallbacks()\n"
        "import monitoring.storage, monitoring.storage.buffer, monitoring.storage.writer\n"
        "import threading\n"
        "print(atexit._ncallbacks() - before, threading.active_count(),"
        " monitoring.storage._connected)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=worker_env(), capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["0", "1", "False"], result.stderr


@pytestmark_buffered
def test_the_exit_message_names_the_real_reason_for_lost_points(buffered, caplog):
    for _ in range(4):
        monitor.get("user_count").add(1, at=T0)
    with database_down(), caplog.at_level(logging.ERROR, logger="monitoring.storage"):
        buffered.flush_at_exit()
    assert "lost 4 data points at exit: the database stayed unavailable" in caplog.text
    assert reported_losses(caplog.text) == ["Monitoring lost 4 data points"]
    assert "unable to open database file" in caplog.text or "connection" in caplog.text
    buffered.reset()
    caplog.clear()
    monitor.get("user_count").add(1, at=T0)
    with caplog.at_level(logging.ERROR, logger="monitoring.storage"):
        buffered.flush_at_exit()
    assert not reported_losses(caplog.text)  # every flush succeeded: nothing to blame
    assert MonitorUserCount.objects.count() == 1
