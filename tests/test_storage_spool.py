"""The on-disk spool: points an exit flush could not write survive to the next process."""

import datetime as dt
import json
import logging
import re
import subprocess
import sys
import threading

import pytest
from django.db.models import Sum
from django.test import override_settings

from monitoring.register import monitor
from monitoring.storage import spool
from test_app.models import MonitorOrderCount, MonitorRequestTime, MonitorUserCount
from tests.conftest import reported_losses, worker_env
from tests.test_storage import BACKENDS, T0, database_down, total

pytestmark = pytest.mark.django_db(transaction=True)


def add_mixed(count):
    """Add ``count`` points to each of three monitors: no dimensions, a dimension, a duration."""
    for i in range(count):
        at = T0 + dt.timedelta(minutes=i % 7, microseconds=i)
        monitor.get("user_count").add(1, at=at)
        monitor.get("orders").add(i + 1, at=at, plan=["free", "pro", "team"][i % 3])
        monitor.get("request_time").add(0.5 + i, at=at)


def test_an_exit_during_an_outage_spools_every_point_and_the_next_flush_writes_them(
    buffered, tmp_path, caplog
):
    with override_settings(MONITORING_SPOOL_DIR=str(tmp_path)):
        add_mixed(40)
        with database_down(), caplog.at_level(logging.WARNING, logger="monitoring.storage"):
            buffered.flush_at_exit()
        assert "spooled 120 data points to" in caplog.text
        assert not reported_losses(caplog.text)
        assert spool.pending(tmp_path) == 120
        assert MonitorUserCount.objects.count() == 0
        # The next process: a fresh buffer, one flush.
        buffered.reset()
        assert monitor.flush() == 120
    assert spool.pending(tmp_path) == 0
    assert list(tmp_path.iterdir()) == []
    assert MonitorUserCount.objects.count() == 40
    assert MonitorOrderCount.objects.aggregate(n=Sum("value"))["n"] == sum(range(1, 41))
    assert sorted(MonitorOrderCount.objects.values_list("plan", flat=True)) == sorted(
        ["free", "pro", "team"][i % 3] for i in range(40)
    )
    # Times to the microsecond and values as added: the spool changes nothing.
    assert sorted(MonitorRequestTime.objects.values_list("created", "value")) == sorted(
        (T0 + dt.timedelta(minutes=i % 7, microseconds=i), 0.5 + i) for i in range(40)
    )
    for resolution in ("minute", "hour", "day"):
        assert total("user_count", resolution) == {"count": 40, "sum": 40}
        assert total("request_time", resolution)["count"] == 40


def test_without_a_spool_the_exit_message_says_what_is_lost_and_how_to_keep_it(buffered, caplog):
    add_mixed(2)
    with database_down(), caplog.at_level(logging.ERROR, logger="monitoring.storage"):
        buffered.flush_at_exit()
    assert "lost 6 data points at exit: the database stayed unavailable" in caplog.text
    assert "Set MONITORING_SPOOL_DIR" in caplog.text


def test_the_spool_is_bounded_and_the_exit_message_counts_the_rest(buffered, tmp_path, caplog):
    with override_settings(MONITORING_SPOOL_DIR=str(tmp_path), MONITORING_SPOOL_MAX=5):
        for i in range(8):
            monitor.get("user_count").add(1, at=T0 + dt.timedelta(minutes=i))
        with database_down(), caplog.at_level(logging.WARNING, logger="monitoring.storage"):
            buffered.flush_at_exit()
        assert "spooled 5 data points" in caplog.text
        assert "lost 3 data points at exit" in caplog.text
        assert "MONITORING_SPOOL_MAX=5" in caplog.text
        # A full spool takes no more.
        buffered.reset()
        caplog.clear()
        monitor.get("user_count").add(1, at=T0)
        with database_down(), caplog.at_level(logging.WARNING, logger="monitoring.storage"):
            buffered.flush_at_exit()
        assert "lost 1 data points at exit" in caplog.text
        assert spool.pending(tmp_path) == 5
        buffered.reset()
        assert monitor.flush() == 5
    # The oldest points were kept.
    assert sorted(MonitorUserCount.objects.values_list("created", flat=True)) == [
        T0 + dt.timedelta(minutes=i) for i in range(5)
    ]


def test_two_processes_never_take_the_same_spool_file(tmp_path):
    from monitoring.storage.writer import MODELS

    key = MonitorUserCount._point_key
    assert MODELS[key] is MonitorUserCount
    for n in range(40):
        spool.save([(key, n, n, None)], tmp_path, 1000)
    taken = [[], []]

    def take(into):
        while True:
            points, _ = spool.take(tmp_path, 3)
            if not points and not spool.pending(tmp_path):
                return
            into.extend(points)

    threads = [threading.Thread(target=take, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    values = sorted(point[1] for into in taken for point in into)
    assert values == list(range(40))


def test_points_of_an_unknown_model_are_rejected_and_counted(buffered, tmp_path):
    (tmp_path / f"1-1-2-abcd{spool.SUFFIX}").write_text(
        json.dumps({"version": 1, "count": 2})
        + "\n"
        + json.dumps(["test_app.MonitorGone", 1, 0, None])
        + "\n"
        + json.dumps(["test_app.MonitorUserCount", 1, int(T0.timestamp()) * 10**9, None])
        + "\n"
    )
    with override_settings(MONITORING_SPOOL_DIR=str(tmp_path)):
        assert monitor.flush() == 1
    assert monitor.stats()["rejected_reasons"] == {"unknown model": 1}
    assert MonitorUserCount.objects.get().created == T0


NEXT_PROCESS = """
import django
django.setup()
from django.test.utils import override_settings
from monitoring.register import monitor
override_settings(MONITORING_BUFFER=True, MONITORING_SPOOL_DIR={spool!r}).enable()
print(monitor.flush())
"""

ADDING_PROCESS = """
import datetime as dt
import django
django.setup()
from django.test.utils import override_settings
from monitoring.register import monitor
override_settings(
    MONITORING_BUFFER=True, MONITORING_FLUSH_INTERVAL=0.05, MONITORING_SPOOL_DIR={spool!r}
).enable()
at = dt.datetime(2024, 6, 3, 12, tzinfo=dt.timezone.utc)
for i in range(300):
    monitor.get("orders").add(1, at=at, plan="pro")
print("added")
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_worker_exiting_during_an_outage_loses_nothing_with_a_spool(backend, tmp_path):
    down = {"MONITORING_SQLITE_NAME": "/nonexistent-directory/x.sqlite3", "PGPORT": "1"}
    first = subprocess.run(
        [sys.executable, "-c", ADDING_PROCESS.format(spool=str(tmp_path))],
        env=worker_env(**down),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    # Monitoring's own health monitor adds a few points of its own to the 300.
    spooled = re.search(r"spooled (\d+) data points", first.stderr)
    assert spooled and int(spooled[1]) >= 300, first.stderr[-600:]
    assert not reported_losses(first.stderr), first.stderr[-600:]
    assert MonitorOrderCount.objects.count() == 0
    second = subprocess.run(
        [sys.executable, "-c", NEXT_PROCESS.format(spool=str(tmp_path))],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == spooled[1]
    assert MonitorOrderCount.objects.filter(plan="pro").count() == 300
    assert total("orders") == {"count": 300, "sum": 300}
    assert spool.pending(tmp_path) == 0
