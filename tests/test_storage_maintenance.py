"""Rollups follow rows written past add(); prune and rebuild keep their exact rules."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import override_settings

from monitoring.models import Rollup
from monitoring.queries import get_series
from monitoring.register import monitor
from monitoring.storage import maintenance
from monitoring.storage.maintenance import prune, rebuild
from test_app.models import MonitorOrderCount, MonitorRequestTime, MonitorUserCount
from tests.test_storage import BACKENDS, wait_for

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


def chart(name, **filters):
    return get_series(name, start=T0, end=T0 + HOUR, resolution="hour", **filters).summary


@pytest.mark.django_db
def test_orm_create_save_and_delete_change_the_chart():
    row = MonitorOrderCount.objects.create(value=3, created=T0, plan="pro")
    MonitorOrderCount(value=2, created=T0 + dt.timedelta(minutes=5), plan="free").save()
    assert chart("orders") == 5
    row.value = 10
    row.save()
    assert chart("orders") == 12
    assert chart("orders", filters={"plan": "pro"}) == 10
    row.plan = "team"
    row.save()
    assert chart("orders", filters={"plan": "pro"}) == 0
    assert chart("orders", filters={"plan": "team"}) == 10
    row.delete()
    assert chart("orders") == 2
    MonitorOrderCount.objects.all().delete()
    assert chart("orders") == 0
    assert not Rollup.objects.filter(monitor="orders").exists()  # empty buckets go


@pytest.mark.django_db
def test_orm_rows_of_durations_update_the_histogram():
    MonitorRequestTime.objects.create(value=100.0, created=T0)
    row = MonitorRequestTime.objects.create(value=300.0, created=T0)
    assert get_series("request_time", start=T0, end=T0 + HOUR).summary is not None
    row.delete()
    from monitoring.models import RollupBin

    bins = RollupBin.objects.filter(monitor="request_time", resolution="hour")
    assert bins.aggregate(n=Sum("count"))["n"] == 1


@pytest.mark.django_db
def test_a_model_without_a_monitor_gets_no_rollups_from_the_orm():
    monitor.unregister("user_count")
    MonitorUserCount.objects.create(value=1, created=T0)
    assert not Rollup.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_readers_never_see_partial_totals_during_a_rebuild():
    for i in range(10):
        monitor.get("user_count").add(1, at=T0 + dt.timedelta(minutes=i))
    seen = []

    def read_from_another_connection():
        seen.append(
            Rollup.objects.filter(monitor="user_count", resolution="hour").aggregate(
                n=Sum("count")
            )["n"]
        )
        connection.close()

    def progress(handle, done, total):
        reader = threading.Thread(target=read_from_another_connection)
        reader.start()
        reader.join(30)

    rebuild([monitor.get("user_count")], batch_size=3, progress=progress)
    assert seen == [10, 10, 10, 10]  # the old totals until the new ones commit
    assert chart("user_count") == 10


NOW = dt.datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
@override_settings(MONITORING_RETENTION={"raw": 30, "minute": 7})
def test_prune_cutoff_is_exact():
    cutoff = NOW - dt.timedelta(days=30)
    for at in (cutoff - dt.timedelta(microseconds=1), cutoff, cutoff + dt.timedelta(seconds=1)):
        MonitorUserCount.objects.create(value=1, created=at)
    minute_cutoff = int((NOW - dt.timedelta(days=7)).timestamp())
    for start in (minute_cutoff - 60, minute_cutoff):
        Rollup.objects.create(
            monitor="x",
            resolution="minute",
            start=start,
            count=1,
            sum=1,
            min=1,
            max=1,
            last=1,
            last_at=start * 10**6,
        )
    result = prune(now=NOW)
    assert result["test_app.MonitorUserCount (raw)"] == 1
    assert sorted(MonitorUserCount.objects.values_list("created", flat=True)) == [
        cutoff,
        cutoff + dt.timedelta(seconds=1),
    ]
    assert list(Rollup.objects.filter(monitor="x").values_list("start", flat=True)) == [
        minute_cutoff
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("after_cutoff", "rebuilt_day"), [(23, False), (25, True)])
def test_rebuild_keeps_the_day_pruning_may_have_cut(monkeypatch, after_cutoff, rebuilt_day):
    monkeypatch.setattr(maintenance.timezone, "now", lambda: NOW)
    cutoff = NOW - dt.timedelta(days=30)
    oldest = cutoff + dt.timedelta(hours=after_cutoff)
    monitor.get("user_count").add(5, at=oldest - dt.timedelta(minutes=1))  # pruned, say
    monitor.get("user_count").add(1, at=oldest)
    MonitorUserCount.objects.filter(value=5)._raw_delete("default")
    rebuild([monitor.get("user_count")])
    day = Rollup.objects.get(
        monitor="user_count",
        resolution="day",
        start__lte=oldest.timestamp(),
        start__gt=oldest.timestamp() - 86400,
    )
    # Within a day of the cutoff the day's rollup is kept whole (6); later it is rebuilt (1).
    assert day.sum == (1 if rebuilt_day else 6)


@pytest.mark.django_db(transaction=True)
@override_settings(USE_TZ=False)
def test_without_use_tz_the_buffered_write_path_rollups_rebuild_and_prune_agree(buffered):
    naive = dt.datetime(2024, 1, 15, 9, 30, 0, 123456)  # Berlin wall-clock time, UTC+1
    monitor.get("user_count").add(2, at=naive)
    monitor.get("user_count").add(1)  # now, as time.time_ns() in the site's zone
    assert monitor.flush() == 2
    stored = MonitorUserCount.objects.order_by("created").first()
    assert stored.created == naive
    hour = Rollup.objects.get(monitor="user_count", resolution="hour", sum=2)
    assert hour.start == int(dt.datetime(2024, 1, 15, 8, tzinfo=UTC).timestamp())
    before = sorted(Rollup.objects.values_list("resolution", "start", "count", "sum"))
    rebuild([monitor.get("user_count")])
    assert sorted(Rollup.objects.values_list("resolution", "start", "count", "sum")) == before
    with override_settings(MONITORING_RETENTION={"raw": 30}):
        result = prune(now=dt.datetime(2024, 2, 14, 9, 30, 0, 123457))
    assert result["test_app.MonitorUserCount (raw)"] == 1


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.django_db(transaction=True)
def test_a_flush_into_new_buckets_in_the_middle_of_a_rebuild_is_counted_once(backend, buffered):
    """A flush that lands between the rebuild's delete and its read of the raw rows.

    The flush writes raw rows and rollup buckets the rebuild did not delete
    (a new day, so a new minute, hour and day); counted by the rebuild from
    the raw rows as well, its points would be counted twice.
    """
    handle = monitor.get("user_count")
    for i in range(10):
        handle.add(1, at=T0 + dt.timedelta(minutes=i))
    assert monitor.flush() == 10
    flushed, others = [], []

    def flush_more():
        for _ in range(5):
            handle.add(1, at=T0 + dt.timedelta(days=2))  # buckets no rollup has yet
        flushed.append(monitor.flush())
        connection.close()

    def between_delete_and_read(execute, sql, params, many, context):
        if not others and "MAX(" in sql.upper():
            others.append(threading.Thread(target=flush_more))
            others[0].start()
            # The flush may wait for the rebuild's lock: go on after a while.
            others[0].join(2)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(between_delete_and_read):
        rebuild([handle], batch_size=3)
    others[0].join(60)
    assert wait_for(lambda: MonitorUserCount.objects.count() == 15)
    assert flushed[0] == 5
    for resolution in ("minute", "hour", "day"):
        rows = Rollup.objects.filter(monitor="user_count", resolution=resolution)
        assert rows.aggregate(n=Sum("count"))["n"] == 15, resolution
