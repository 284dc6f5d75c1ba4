"""monitoring_prune and monitoring_rebuild, and the automatic prune."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from monitoring.models import Rollup, RollupBin
from monitoring.queries import get_series
from monitoring.register import monitor
from monitoring.storage import buffer
from monitoring.storage.maintenance import prune
from test_app.models import MonitorOrderCount, MonitorRequestTime, MonitorUserCount

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


def rollups(resolution=None, **filters):
    queryset = Rollup.objects.filter(**filters)
    if resolution:
        queryset = queryset.filter(resolution=resolution)
    return queryset.count()


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# -- prune ---------------------------------------------------------------------


@pytest.fixture
def aged_data():
    """Add one point 2, 10, 40 and 500 days ago, to user_count and request_time."""
    now = timezone.now()
    for days in (2, 10, 40, 500):
        monitor.get("user_count").add(1, at=now - dt.timedelta(days=days))
        monitor.get("request_time").add(5.0, at=now - dt.timedelta(days=days))
    return now


def test_prune_keeps_each_table_for_its_retention(aged_data):
    result = prune(now=aged_data)
    assert MonitorUserCount.objects.count() == 2  # raw rows: 30 days
    assert result["test_app.MonitorUserCount (raw)"] == 2
    assert rollups("minute", monitor="user_count") == 1  # minute rollups: 7 days
    assert rollups("hour", monitor="user_count") == 3  # hour rollups: 400 days
    assert rollups("day", monitor="user_count") == 4  # day rollups: forever
    assert result["monitoring.Rollup (minute)"] == 6  # 3 points x 2 monitors
    assert RollupBin.objects.filter(resolution="minute").count() == 1
    assert result["monitoring.RollupBin (hour)"] == 1


@override_settings(MONITORING_RETENTION={"raw": 5, "day": 1000})
def test_prune_follows_the_settings_over_the_defaults(aged_data):
    prune(now=aged_data)
    assert MonitorUserCount.objects.count() == 1
    assert rollups("minute", monitor="user_count") == 1
    assert rollups("day", monitor="user_count") == 4


def test_prune_command_and_dry_run(aged_data):
    before = (MonitorUserCount.objects.count(), Rollup.objects.count(), RollupBin.objects.count())
    out = run("monitoring_prune", "--dry-run")
    assert "Retention: raw 30 days, minute 7 days, hour 400 days, day forever." in out
    assert "test_app.MonitorUserCount (raw): would delete 2 rows" in out
    assert "Dry run: would delete" in out
    after = (MonitorUserCount.objects.count(), Rollup.objects.count(), RollupBin.objects.count())
    assert after == before
    out = run("monitoring_prune")
    assert "test_app.MonitorUserCount (raw): deleted 2 rows" in out
    assert MonitorUserCount.objects.count() == 2
    assert "Deleted 0 rows." in run("monitoring_prune")


def test_prune_with_a_limit_deletes_a_bounded_slice(aged_data):
    MonitorUserCount.objects.bulk_create(
        [MonitorUserCount(created=aged_data - dt.timedelta(days=60)) for _ in range(5)]
    )
    assert prune(now=aged_data, limit=3)["test_app.MonitorUserCount (raw)"] == 3
    assert prune(now=aged_data, limit=3)["test_app.MonitorUserCount (raw)"] == 3
    assert prune(now=aged_data, limit=3)["test_app.MonitorUserCount (raw)"] == 1
    assert MonitorUserCount.objects.count() == 2


def test_the_background_thread_prunes_in_slices(aged_data):
    with override_settings(MONITORING_PRUNE_INTERVAL=60, MONITORING_PRUNE_BATCH=1):
        buffer._next_prune = 0
        buffer._tick()
        assert MonitorUserCount.objects.count() == 3  # one slice of one row
        buffer._tick()  # not due again for a minute
        assert MonitorUserCount.objects.count() == 3
        buffer._next_prune = 0
        buffer._tick()
        assert MonitorUserCount.objects.count() == 2
    buffer.reset()


# -- rebuild -------------------------------------------------------------------


def add_orders():
    for i in range(12):
        at = T0 + dt.timedelta(hours=i * 7)
        monitor.get("orders").add(i + 1, at=at, plan=["free", "pro", "team"][i % 3])
        monitor.get("request_time").add(float(10 * (i + 1)), at=at)


def snapshot():
    return (
        sorted(
            Rollup.objects.values_list(
                "monitor",
                "resolution",
                "start",
                "dimensions",
                "count",
                "sum",
                "min",
                "max",
                "last",
                "last_at",
            )
        ),
        sorted(
            RollupBin.objects.values_list(
                "monitor", "resolution", "start", "dimensions", "bin", "count"
            )
        ),
    )


def test_rebuild_recomputes_lost_rollups_exactly():
    add_orders()
    expected = snapshot()
    Rollup.objects.all().delete()
    RollupBin.objects.all().delete()
    out = run("monitoring_rebuild")
    assert "orders: rebuilt from 12 raw rows." in out
    assert "request_time: rebuilt from 12 raw rows." in out
    # Charts of existing tables (the demo's 'revenue') have no rollups to rebuild, and
    # sampled gauges ('unpaid_orders') no raw rows of a monitor model.
    rebuilt = [h for h in monitor if h.name not in ("revenue", "unpaid_orders")]
    assert f"Rebuilt {len(rebuilt)} monitor(s)." in out
    assert "revenue" not in out
    assert "unpaid_orders" not in out
    assert snapshot() == expected


def test_rebuild_rolls_up_bulk_imported_rows():
    MonitorOrderCount.objects.bulk_create(
        [MonitorOrderCount(value=2, created=T0, plan="pro") for _ in range(4)]
    )
    assert not Rollup.objects.exists()
    run("monitoring_rebuild", "orders")
    series = get_series("orders", start=T0, end=T0 + dt.timedelta(hours=1), resolution="hour")
    assert series.values["sum"] == [8]
    assert not Rollup.objects.exclude(monitor="orders").exists()


def test_rebuild_named_monitors_only():
    add_orders()
    Rollup.objects.all().delete()
    run("monitoring_rebuild", "orders")
    assert set(Rollup.objects.values_list("monitor", flat=True)) == {"orders"}


def test_rebuild_since_keeps_older_buckets():
    add_orders()
    old = Rollup.objects.get(monitor="orders", resolution="hour", start=int(T0.timestamp()))
    old.count = 99  # damage an old bucket, which a rebuild --since later must not touch
    old.save()
    Rollup.objects.filter(monitor="orders", start__gte=int(T0.timestamp()) + 2 * 86400).delete()
    out = run("monitoring_rebuild", "orders", "--since", "2024-06-05")
    assert "since 2024-06-05T00:00:00+02:00" in out
    old.refresh_from_db()
    assert old.count == 99
    after = Rollup.objects.filter(
        monitor="orders", resolution="hour", start__gte=int(T0.timestamp()) + 2 * 86400
    )
    # Points at T0 + 49h, 56h, 63h, 70h, 77h: hour buckets from the 5th (local) on.
    assert after.aggregate(n=Sum("count"))["n"] == 5
    day = Rollup.objects.filter(monitor="orders", resolution="day")
    assert day.aggregate(n=Sum("count"))["n"] == 12


def test_rebuild_works_in_batches_and_shows_progress():
    add_orders()
    err = StringIO()
    call_command(
        "monitoring_rebuild", "request_time", "--batch-size", "5", stdout=StringIO(), stderr=err
    )
    # Not a terminal: a plain line per batch here, since each passes a tenth of the rows.
    assert err.getvalue().splitlines() == [
        "request_time: 5/12 raw rows (41%)",
        "request_time: 10/12 raw rows (83%)",
        "request_time: 12/12 raw rows (100%)",
    ]
    assert (
        Rollup.objects.filter(monitor="request_time", resolution="day").aggregate(n=Sum("count"))[
            "n"
        ]
        == 12
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No monitor named 'nope'"),
        (["--since", "yesterday"], "--since needs a date"),
        (["--since", "2024-02-30"], "--since needs a date"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_rebuild_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("monitoring_rebuild", *args, stdout=StringIO())


def test_rebuild_of_a_monitor_without_rows():
    assert "user_count: rebuilt from 0 raw rows." in run("monitoring_rebuild", "user_count")
    assert MonitorRequestTime.objects.count() == 0


def test_rebuild_after_pruning_keeps_the_history_raw_rows_no_longer_cover(aged_data):
    prune()  # raw rows go after 30 days; hour rollups stay 400 days, day rollups forever
    assert MonitorUserCount.objects.count() == 2
    before = get_series("user_count", start=aged_data - dt.timedelta(days=600), end=aged_data)
    assert before.summary == 4
    assert "user_count: rebuilt from 2 raw rows." in run("monitoring_rebuild", "user_count")
    after = get_series("user_count", start=aged_data - dt.timedelta(days=600), end=aged_data)
    assert after.summary == 4
    assert after.values == before.values


def test_rebuild_without_raw_rows_deletes_nothing():
    monitor.get("user_count").add(3, at=T0)
    # Past the ORM's signals, as retention pruning or raw SQL would delete them.
    MonitorUserCount.objects.all()._raw_delete("default")
    assert "user_count: rebuilt from 0 raw rows." in run("monitoring_rebuild", "user_count")
    assert rollups(monitor="user_count") == 3  # minute, hour and day


@override_settings(TIME_ZONE="Asia/Kolkata")
def test_rebuild_until_keeps_later_days_in_a_zone_whose_days_start_mid_hour():
    # Kolkata is UTC+05:30: its day starts at 18:30 UTC, in the middle of an hour bucket.
    for at in ("2024-06-03T10:00", "2024-06-03T18:40", "2024-06-04T12:00"):
        monitor.get("user_count").add(1, at=dt.datetime.fromisoformat(at).replace(tzinfo=UTC))
    before = sorted(Rollup.objects.filter(monitor="user_count").values_list("resolution", "count"))
    june_4 = Rollup.objects.get(monitor="user_count", resolution="day", start__gt=T0.timestamp())
    out = run("monitoring_rebuild", "user_count", "--since", "2024-06-03", "--until", "2024-06-03")
    assert "since 2024-06-03T00:00:00+05:30 until the end of 2024-06-03" in out
    # The 18:40 UTC point was read (its hour bucket was rebuilt) but is the 4th's in Kolkata:
    # the 4th's day bucket, not rebuilt, still counts it once.
    june_4.refresh_from_db()
    assert june_4.count == 2
    after = sorted(Rollup.objects.filter(monitor="user_count").values_list("resolution", "count"))
    assert after == before


def test_rebuild_until_before_since_is_refused():
    with pytest.raises(CommandError, match=r"--until \(2024-06-01T00:00:00\+02:00\) is before"):
        run("monitoring_rebuild", "--since", "2024-06-03", "--until", "2024-06-01")
    with pytest.raises(CommandError, match="--until needs a date"):
        run("monitoring_rebuild", "--until", "soon")
