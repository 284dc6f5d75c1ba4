"""Exactness without a server: 4 processes x 8 threads x 10,000 add(1) is 320,000, everywhere.

Heavy (``-m heavy``): .ci/run runs it once on a SQLite file and once on PostgreSQL.
"""

import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import Client

from monitoring.models import Rollup
from test_app.models import MonitorUserCount
from tests.conftest import finish_adding, kill_running, reported_losses, start_worker
from tests.test_storage import BACKENDS

pytestmark = [pytest.mark.heavy, pytest.mark.django_db(transaction=True)]

PROCESSES, THREADS, PER_THREAD = 4, 8, 10_000
EXPECTED = PROCESSES * THREADS * PER_THREAD


def poll_json(user, seen, stop, errors):
    """Read user_count's total from its JSON until ``stop`` is set, like a dashboard would."""
    client = Client()
    client.force_login(user)
    try:
        while not stop.is_set():
            response = client.get("/monitoring/user_count/", {"format": "json", "range": "24h"})
            if response.status_code != 200:
                errors.append(response.status_code)
                return
            seen.append(response.json()["summary"]["value"] or 0)
            stop.wait(0.05)
    finally:
        connection.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_320000_adds_from_4_processes_of_8_threads_are_exact(backend, staff_user):
    seen: list[list[int]] = [[], []]
    errors: list[object] = []
    stop = threading.Event()
    readers = [
        threading.Thread(target=poll_json, args=(staff_user, mine, stop, errors)) for mine in seen
    ]
    for reader in readers:
        reader.start()
    workers = [start_worker("exactness_worker.py", THREADS, PER_THREAD) for _ in range(PROCESSES)]
    try:
        for worker in workers:
            err = finish_adding(worker, THREADS * PER_THREAD, timeout=300)
            assert not reported_losses(err), err
    finally:
        kill_running(workers)
        stop.set()
        for reader in readers:
            reader.join(60)
    assert errors == []
    assert MonitorUserCount.objects.count() == EXPECTED
    assert MonitorUserCount.objects.aggregate(n=Sum("value"))["n"] == EXPECTED
    for resolution in ("minute", "hour", "day"):
        rows = Rollup.objects.filter(monitor="user_count", resolution=resolution)
        assert rows.aggregate(n=Sum("count"), s=Sum("sum")) == {"n": EXPECTED, "s": EXPECTED}
    # Each reader's totals only grow, and never past what was added.
    for mine in seen:
        assert len(mine) >= 10
        assert mine == sorted(mine)
        assert min(mine) >= 0 and max(mine) <= EXPECTED
    assert any(0 < value < EXPECTED for mine in seen for value in mine)  # read mid-way
    client = Client()
    client.force_login(staff_user)
    final = client.get("/monitoring/user_count/", {"format": "json", "range": "24h"}).json()
    assert final["summary"]["value"] == EXPECTED
