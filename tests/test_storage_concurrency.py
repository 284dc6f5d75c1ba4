"""Maintenance while writers write: totals stay exact, readers see no partial rebuild.

Heavy (``-m heavy``): .ci/run runs it once on a SQLite file and once on PostgreSQL.
"""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client, override_settings
from django.utils import timezone

from monitoring.models import Rollup
from monitoring.register import monitor
from monitoring.storage.maintenance import prune, rebuild
from test_app.models import MonitorUserCount
from tests.conftest import finish_adding, kill_running, reported_losses, start_worker
from tests.test_storage import BACKENDS

pytestmark = [pytest.mark.heavy, pytest.mark.django_db(transaction=True)]

PROCESSES, THREADS, PER_THREAD = 2, 4, 5_000
EXPECTED = PROCESSES * THREADS * PER_THREAD
OLD_POINTS = 50


def recent_totals(since):
    """Return user_count's rollup count per resolution from ``since`` (Unix seconds) on."""
    rows = Rollup.objects.filter(monitor="user_count", start__gte=since)
    return {
        resolution: rows.filter(resolution=resolution).aggregate(n=Sum("count"))["n"] or 0
        for resolution in ("minute", "hour", "day")
    }


@pytest.mark.parametrize("backend", BACKENDS)
@override_settings(MONITORING_RETENTION={"raw": 30, "minute": 7, "hour": 30, "day": 30})
def test_prune_and_rebuild_while_2_processes_write_keep_totals_exact(backend):
    now = timezone.now()
    # Old points, for prune to take while the writers write.
    old = now - dt.timedelta(days=40)
    for i in range(OLD_POINTS):
        monitor.get("user_count").add(1, at=old + dt.timedelta(seconds=i))
    # Rollups from the start of yesterday (local day buckets start before UTC ones) on.
    since = int((now - dt.timedelta(days=2)).timestamp())
    seen: list[list[dict]] = [[], []]
    stop = threading.Event()

    def read(into):
        try:
            while not stop.is_set():
                into.append(recent_totals(since))
                stop.wait(0.02)
        finally:
            connection.close()

    readers = [threading.Thread(target=read, args=(into,)) for into in seen]
    for reader in readers:
        reader.start()
    workers = [
        start_worker("exactness_worker.py", THREADS, PER_THREAD, "--interval", 0.05)
        for _ in range(PROCESSES)
    ]
    rebuilds = prunes = 0
    pruned = 0
    try:
        while any(worker.poll() is None for worker in workers):
            rebuild([monitor.get("user_count")], batch_size=2_000)
            rebuilds += 1
            pruned += sum(prune().values())
            prunes += 1
        for worker in workers:
            finish_adding(worker, THREADS * PER_THREAD, timeout=120)
        rebuild([monitor.get("user_count")], batch_size=2_000)  # once more, at rest
    finally:
        kill_running(workers)
        stop.set()
        for reader in readers:
            reader.join(60)
    assert rebuilds >= 2
    assert pruned >= OLD_POINTS  # the old raw rows, at least
    assert MonitorUserCount.objects.count() == EXPECTED
    final = recent_totals(since)
    assert final == {"minute": EXPECTED, "hour": EXPECTED, "day": EXPECTED}
    # A reader never saw a total go down (a rebuild half done) or past the end.
    for into in seen:
        assert len(into) >= 10
        for resolution in ("minute", "hour", "day"):
            series = [totals[resolution] for totals in into]
            assert series == sorted(series), resolution
            assert series[-1] <= EXPECTED


def poll(path, user, answers, stop):
    """GET ``path`` as ``user`` until ``stop`` is set; keep each status and body's error."""
    client = Client()
    client.force_login(user)
    try:
        while not stop.is_set():
            response = client.get(path)
            answers.append((response.status_code, response.content[:200]))
            stop.wait(0.01)
    finally:
        connection.close()


@pytest.mark.sqlite_file
def test_sqlite_writers_readers_and_rebuilds_on_one_file_surface_no_lock_errors(staff_user):
    """Two writing processes, three readers of the JSON, the card and the CSV, rebuilds.

    Flushes that meet a lock wait (the busy timeout) or are retried later:
    no caller of add() or of a view sees "database is locked", no point is lost.
    In SQLite's default rollback journal: WAL is not needed for this.
    """
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "delete"
    stop = threading.Event()
    answers: list[list] = [[], [], []]
    paths = [
        "/monitoring/user_count/?format=json&range=24h",
        "/monitoring/user_count/?format=csv&range=24h",
        "/monitoring/user_count/?range=24h",
    ]
    readers = [
        threading.Thread(target=poll, args=(path, staff_user, into, stop))
        for path, into in zip(paths, answers, strict=True)
    ]
    for reader in readers:
        reader.start()
    workers = [start_worker("exactness_worker.py", 4, 5000) for _ in range(2)]
    try:
        while any(worker.poll() is None for worker in workers):
            rebuild([monitor.get("user_count")], batch_size=5_000)
        for worker in workers:
            err = finish_adding(worker, 20000, timeout=120)
            assert not reported_losses(err), err
    finally:
        kill_running(workers)
        stop.set()
        for reader in readers:
            reader.join(60)
    for into in answers:
        assert len(into) >= 5
        assert {status for status, _ in into} == {200}, [a for a in into if a[0] != 200][:3]
    assert MonitorUserCount.objects.count() == 40_000
    rows = Rollup.objects.filter(monitor="user_count")
    for resolution in ("minute", "hour", "day"):
        assert rows.filter(resolution=resolution).aggregate(n=Sum("count"))["n"] == 40_000
