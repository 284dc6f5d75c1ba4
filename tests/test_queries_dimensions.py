"""Gauges and durations split and filtered by a dimension: the same answer, read in SQL.

Expected values are worked out here from the points added, with the writer's
own histogram bins for percentiles, so they hold however the reader gets there.
"""

import datetime as dt
import math
import sys

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from monitoring.queries import _Bucket, _stats, get_series
from monitoring.register import monitor
from monitoring.storage.rollups import bin_of

# The monitors get tables of their own, which SQLite creates outside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
END = T0 + dt.timedelta(hours=1)
SPAN = {"start": T0, "end": END, "resolution": "15min"}

# (minute after T0, host, value): four 15-minute buckets. By number of points the hosts
# rank a (3), None (2, labelled "None"), b (2), then c and d (1 each).
POINTS = [
    (1, "a", 10.0),
    (2, "a", 20.0),
    (3, "b", 7.0),
    (4, None, 4.0),
    (5, "c", 100.0),
    (20, "a", 5.0),
    (31, "b", 1.0),
    (46, "d", 50.0),
    (50, None, 8.0),
]
BEFORE = [(-30, "a", 3.0), (-20, "b", 6.0)]  # the previous period's points


@pytest.fixture
def dimensioned(django_db_blocker):
    """Register a gauge ``readings`` and a duration ``timings``, each with a nullable ``host``."""
    from monitoring.models import DurationBase, FloatValueBase
    from monitoring.views import DurationView, ValueView

    with isolate_apps("test_app"):

        class MonitorReadings(FloatValueBase):
            host = models.CharField(max_length=20, null=True)  # noqa: DJ001 - None is a value

            class Meta:
                app_label = "test_app"

        class MonitorTimings(DurationBase):
            host = models.CharField(max_length=20, null=True)  # noqa: DJ001 - None is a value

            class Meta:
                app_label = "test_app"

    created = [MonitorReadings, MonitorTimings]
    with connection.schema_editor() as editor:
        for model in created:
            editor.create_model(model)
    monitor.register("readings", ValueView.as_view(model=MonitorReadings))
    monitor.register("timings", DurationView.as_view(model=MonitorTimings))
    for name in ("readings", "timings"):
        for minute, host, value in POINTS + BEFORE:
            monitor.get(name).add(value, at=T0 + dt.timedelta(minutes=minute), host=host)
    yield
    with connection.schema_editor() as editor:
        for model in created:
            editor.delete_model(model)


def expected(kind, hosts):
    """Return the stats per 15-minute bucket of the points of ``hosts``, from the points."""
    buckets = [_Bucket() for _ in range(4)]
    for minute, host, value in POINTS:
        if host in hosts:
            bucket = buckets[minute // 15]
            bucket.merge_row(1, value, value, value, value, minute)
            bucket.bins[bin_of(value)] = bucket.bins.get(bin_of(value), 0) + 1
    stats = [_stats(kind, bucket, False) for bucket in buckets]
    return {stat: [s[stat] for s in stats] for stat in stats[0]}


HOSTS = {"a", "b", "c", "d", None}


@pytest.mark.parametrize(("name", "kind"), [("readings", "value"), ("timings", "duration")])
def test_a_split_gives_the_top_values_and_other(dimensioned, name, kind):
    series = get_series(name, split_by="host", top=2, **SPAN)
    assert series.values == expected(kind, HOSTS)
    assert [(g.label, g.total, g.other) for g in series.groups] == [
        ("a", 3, False),
        ("None", 2, False),
        ("other", 4, True),
    ]
    assert series.groups[0].values == expected(kind, {"a"})
    assert series.groups[1].values == expected(kind, {None})
    assert series.groups[2].values == expected(kind, {"b", "c", "d"})
    if kind == "value":
        assert (series.summary, series.previous_summary) == (8.0, 6.0)
        assert series.values["avg"] == [28.2, 5.0, 1.0, 29.0]
        assert series.groups[2].values["last"] == [100.0, None, 1.0, 50.0]
    # Without "other" when the top N holds every value.
    everything = get_series(name, split_by="host", top=5, **SPAN)
    assert [g.label for g in everything.groups] == ["a", "None", "b", "c", "d"]
    assert [g.values for g in everything.groups][2:] == [
        expected(kind, {"b"}),
        expected(kind, {"c"}),
        expected(kind, {"d"}),
    ]


@pytest.mark.parametrize(("name", "kind"), [("readings", "value"), ("timings", "duration")])
@pytest.mark.parametrize(
    ("wanted", "hosts", "previous"),
    [
        (["b", None], {"b", None}, 6.0),
        ("a", {"a"}, 3.0),
        ("A", set(), None),  # values match exactly, even where SQLite's LIKE ignores case
        ("%", set(), None),
        ([], set(), None),
    ],
)
def test_a_filter_keeps_only_the_wanted_values(dimensioned, name, kind, wanted, hosts, previous):
    series = get_series(name, filters={"host": wanted}, **SPAN)
    assert series.values == expected(kind, hosts)
    if kind == "value":
        assert series.previous_summary == previous
    split = get_series(name, filters={"host": wanted}, split_by="host", top=1, **SPAN)
    assert split.values == series.values
    ranked = sorted(hosts, key=lambda h: (-sum(p[1] == h for p in POINTS), str(h)))
    assert [g.label for g in split.groups] == [str(h) for h in ranked[:1]] + (
        ["other"] if len(hosts) > 1 else []
    )


def rows_fetched(monkeypatch):
    """Count the rows every query hands back to Python from now on."""
    from django.db.backends.utils import CursorWrapper

    fetched = []

    def fetchmany(self, *args):
        rows = self.cursor.fetchmany(*args)
        fetched.append(len(rows))
        return rows

    monkeypatch.setattr(CursorWrapper, "fetchmany", fetchmany, raising=False)
    return fetched


@pytest.mark.parametrize("name", ["readings", "timings"])
def test_rows_of_other_values_are_never_fetched(dimensioned, monkeypatch, name):
    # Forty more hosts, each in every minute: 40 x 60 minute rows, and for a duration as
    # many bins.
    handle = monitor.get(name)
    for host in range(40):
        for minute in range(60):
            handle.add(1.0, at=T0 + dt.timedelta(minutes=minute), host=f"h{host:02d}")
    get_series(name, split_by="host", top=2, **SPAN)  # flushed, and warmed up
    fetched = rows_fetched(monkeypatch)
    get_series(name, filters={"host": "h07"}, resolution="minute", start=T0, end=END)
    # The 60 rows of h07 (and as many bins), read for the chart and the headline: not the
    # 2,400 of every host.
    assert 60 <= sum(fetched) <= 4 * 60 + 10, fetched
    fetched.clear()
    series = get_series(name, split_by="host", top=2, resolution="minute", start=T0, end=END)
    assert [g.label for g in series.groups] == ["h00", "h01", "other"]
    # The two top hosts' rows, "other" and the total merged per minute, one row per key to
    # rank them: far from 2,400.
    assert sum(fetched) <= 2 * 60 * 2 + 60 * 2 + 45 + 60 * 3, fetched


def test_readings_whose_sum_overflows_merge_to_infinity_on_every_database(dimensioned):
    # Two hosts read the largest double in the same minute: the sum of their rows
    # overflows, which PostgreSQL would refuse as a float8 sum, where Python gives
    # infinity (and views then clamp it).
    biggest = sys.float_info.max
    for host in ("a", "b"):
        monitor.get("readings").add(biggest, at=T0 + dt.timedelta(minutes=61), host=host)
    series = get_series("readings", start=END, end=END + dt.timedelta(minutes=5), resolution="5min")
    assert series.values["avg"] == [math.inf]
    assert series.values["max"] == [biggest]
