"""The query layer's contract: buckets, fills, stats, summaries, filters and splits."""

import datetime as dt
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone

from monitoring.exceptions import NotRegistered
from monitoring.queries import (
    MAX_POINTS,
    STATS,
    bucket_starts,
    choose_resolution,
    get_series,
)
from monitoring.register import monitor

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)  # a Monday


def add(name, value, at, **dimensions):
    monitor.get(name).add(value, at=at, **dimensions)


@pytest.mark.parametrize(
    ("span", "resolution"),
    [
        (dt.timedelta(hours=1), "minute"),
        (dt.timedelta(hours=6), "5min"),
        (dt.timedelta(hours=24), "15min"),
        (dt.timedelta(days=2), "hour"),
        (dt.timedelta(days=7), "3h"),
        (dt.timedelta(days=30), "6h"),
        (dt.timedelta(days=60), "12h"),
        (dt.timedelta(days=62), "day"),
        (dt.timedelta(days=90), "day"),
        (dt.timedelta(days=365), "week"),
    ],
)
def test_auto_resolution_keeps_series_short(span, resolution, freeze_now):
    end = freeze_now(T0)
    assert choose_resolution(end - span, end) == resolution
    series = get_series("user_count", start=end - span, end=end)
    assert series.resolution == resolution
    assert len(series.buckets) <= MAX_POINTS + 1


@pytest.mark.parametrize(
    ("age", "span", "resolution"),
    [
        (dt.timedelta(days=1), dt.timedelta(hours=6), "5min"),
        (dt.timedelta(days=8), dt.timedelta(hours=6), "hour"),  # minute rollups pruned
        (dt.timedelta(days=401), dt.timedelta(hours=6), "day"),  # hour rollups pruned
    ],
)
def test_auto_resolution_skips_rollups_pruned_by_retention(age, span, resolution):
    now = T0
    assert choose_resolution(now - age, now - age + span, now=now) == resolution


@override_settings(MONITORING_RETENTION={"minute": None, "hour": None})
def test_auto_resolution_with_rollups_kept_forever():
    assert choose_resolution(T0 - dt.timedelta(hours=6), T0) == "5min"


def test_hour_buckets_are_utc_and_filled_with_zero_for_counts():
    add("user_count", 2, T0 + dt.timedelta(minutes=5))
    add("user_count", 3, T0 + dt.timedelta(minutes=59, seconds=59))
    add("user_count", 4, T0 + dt.timedelta(hours=2))
    series = get_series("user_count", start=T0, end=T0 + dt.timedelta(hours=4), resolution="hour")
    assert series.kind == "count"
    assert series.buckets == [T0 + dt.timedelta(hours=h) for h in range(4)]
    assert series.values == {"sum": [5, 0, 4, 0]}
    assert series.start == T0
    assert series.end == T0 + dt.timedelta(hours=4)


def test_minute_buckets_edges():
    add("user_count", 1, T0)  # exactly on the edge belongs to that bucket
    add("user_count", 1, T0 + dt.timedelta(seconds=59.999))
    add("user_count", 1, T0 + dt.timedelta(minutes=1))
    add("user_count", 1, T0 - dt.timedelta(microseconds=1))  # before the range
    series = get_series(
        "user_count", start=T0, end=T0 + dt.timedelta(minutes=3), resolution="minute"
    )
    assert series.values["sum"] == [2, 1, 0]


def test_gauge_stats_and_gaps():
    add("load_average", 1.0, T0 + dt.timedelta(minutes=1))
    add("load_average", 4.0, T0 + dt.timedelta(minutes=30))
    add("load_average", 2.5, T0 + dt.timedelta(minutes=50))
    series = get_series("load_average", start=T0, end=T0 + dt.timedelta(hours=2), resolution="hour")
    assert set(series.values) == set(STATS["value"])
    assert series.values["avg"] == [pytest.approx(2.5), None]
    assert series.values["min"] == [1.0, None]
    assert series.values["max"] == [4.0, None]
    assert series.values["last"] == [2.5, None]
    assert series.summary == 2.5
    assert series.summary_stat == "last"


def test_duration_stats_within_five_percent():
    for ms in range(1, 101):  # 1..100 ms
        add("request_time", float(ms), T0 + dt.timedelta(seconds=ms))
    series = get_series("request_time", start=T0, end=T0 + dt.timedelta(hours=1), resolution="hour")
    assert series.values["count"] == [100]
    assert series.values["p50"][0] == pytest.approx(50, rel=0.05)
    assert series.values["p95"][0] == pytest.approx(95, rel=0.05)
    assert series.values["p99"][0] == pytest.approx(99, rel=0.05)
    assert series.values["max"][0] == pytest.approx(100, rel=0.05)
    assert series.summary == pytest.approx(95, rel=0.05)
    assert series.summary_stat == "p95"


def test_empty_duration_buckets_count_zero_and_have_no_percentiles():
    series = get_series("request_time", start=T0, end=T0 + dt.timedelta(hours=1), resolution="hour")
    assert series.values == {
        "count": [0],
        "p50": [None],
        "p95": [None],
        "p99": [None],
        "max": [None],
    }
    assert series.summary is None


@pytest.mark.parametrize("days", [1, 7, 90])
def test_summary_and_previous_period_cover_exactly_the_range(days, freeze_now):
    # Hour-aligned, because past the minute rollups' retention (7 days) the
    # headline is read from hour rollups; the chart of 90 days draws days.
    end = T0
    freeze_now(end + dt.timedelta(minutes=30))
    start = end - dt.timedelta(days=days)
    add("user_count", 7, start - dt.timedelta(minutes=1))  # previous period
    add("user_count", 50, start - 2 * dt.timedelta(days=days) + dt.timedelta(minutes=5))
    add("user_count", 5, start)
    add("user_count", 6, end - dt.timedelta(seconds=1))
    add("user_count", 100, end)  # after the range
    series = get_series("user_count", start=start, end=end)
    assert series.summary == 11
    assert series.previous_summary == 7
    assert series.summary_stat == "total"


def test_gauge_summary_is_the_last_reading_in_range(freeze_now):
    end = T0
    freeze_now(end + dt.timedelta(minutes=30))
    add("load_average", 1.5, end - dt.timedelta(days=40))
    add("load_average", 2.5, end - dt.timedelta(days=20))
    add("load_average", 9.0, end + dt.timedelta(minutes=5))  # after the range
    series = get_series("load_average", start=end - dt.timedelta(days=30), end=end)
    assert series.resolution == "6h"
    assert series.summary == 2.5
    assert series.previous_summary == 1.5


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25), (dt.date(2024, 6, 3), 24)],
)
def test_day_buckets_follow_time_zone_across_dst(day, hours):
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=BERLIN)
    next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=BERLIN)
    assert next_midnight.astimezone(UTC) - midnight.astimezone(UTC) == dt.timedelta(hours=hours)
    add("user_count", 1, midnight)  # first instant of the day
    add("user_count", 2, next_midnight - dt.timedelta(microseconds=1))  # last instant
    add("user_count", 4, next_midnight)  # next day
    series = get_series(
        "user_count", start=midnight, end=next_midnight + dt.timedelta(days=1), resolution="day"
    )
    assert series.buckets == [midnight, next_midnight]
    assert series.values["sum"] == [3, 4]


@override_settings(TIME_ZONE="America/New_York")
def test_day_buckets_follow_the_time_zone_setting():
    ny = zoneinfo.ZoneInfo("America/New_York")
    add("user_count", 1, dt.datetime(2024, 6, 3, 23, 30, tzinfo=ny))  # 05:30 UTC on the 4th
    start = dt.datetime(2024, 6, 3, tzinfo=ny)
    series = get_series(
        "user_count", start=start, end=start + dt.timedelta(days=2), resolution="day"
    )
    assert series.values["sum"] == [1, 0]


def test_bucket_starts_floor_the_first_bucket():
    starts = bucket_starts(T0 + dt.timedelta(minutes=30), T0 + dt.timedelta(hours=2), "hour")
    assert starts == [T0, T0 + dt.timedelta(hours=1)]


def test_filters_and_split_by_top_n_plus_other():
    for plan, n in [("free", 5), ("pro", 3), ("team", 1)]:
        for i in range(n):
            add("orders", 1, T0 + dt.timedelta(minutes=i), plan=plan)
    span = {"start": T0, "end": T0 + dt.timedelta(hours=1), "resolution": "hour"}
    assert get_series("orders", **span).values["sum"] == [9]
    assert get_series("orders", filters={"plan": "pro"}, **span).values["sum"] == [3]
    assert get_series("orders", filters={"plan": ["pro", "team"]}, **span).values["sum"] == [4]
    split = get_series("orders", split_by="plan", top=2, **span)
    assert split.split_by == "plan"
    assert [(g.label, g.values["sum"], g.total) for g in split.groups] == [
        ("free", [5], 5),
        ("pro", [3], 3),
        ("other", [1], 1),
    ]
    no_other = get_series("orders", split_by="plan", top=5, **span)
    assert [g.label for g in no_other.groups] == ["free", "pro", "team"]


def test_handle_series_is_get_series():
    add("user_count", 2, T0)
    series = monitor.get("user_count").series(start=T0, end=T0 + dt.timedelta(hours=1))
    assert series.name == "user_count"
    assert series.summary == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": "fortnight"}, "Unknown resolution 'fortnight'"),
        ({"start": T0, "end": T0}, "must be before end"),
        ({"filters": {"region": "eu"}}, "no dimension 'region'"),
        ({"split_by": "region"}, "no dimension 'region' to split by"),
        ({"split_by": "plan", "top": 0}, "top must be"),
        ({"start": T0 - dt.timedelta(days=3650), "end": T0, "resolution": "minute"}, "too many"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_series("orders", **kwargs)


def test_unknown_monitor():
    with pytest.raises(NotRegistered, match="Did you mean 'orders'"):
        get_series("order")


def test_day_buckets_ignore_a_time_zone_a_request_activated():
    midnight = dt.datetime(2024, 6, 3, tzinfo=BERLIN)
    add("user_count", 1, midnight + dt.timedelta(hours=1))  # 23:00 UTC on the 2nd
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        series = get_series(
            "user_count", start=midnight, end=midnight + dt.timedelta(days=1), resolution="day"
        )
    assert series.buckets == [midnight]
    assert series.values["sum"] == [1]


def test_duration_percentiles_come_from_the_bins():
    for i in range(3):
        add("request_time", 10.0 * (i + 1), T0 + dt.timedelta(minutes=i))
    series = get_series("request_time", start=T0, end=T0 + dt.timedelta(hours=1), resolution="hour")
    assert series.values["count"] == [3]
    assert series.values["max"] == [30.0]
    assert series.values["p50"][0] == pytest.approx(20, rel=0.05)


def test_integer_gauges_answer_whole_numbers():
    add("queue_length", 3, T0)
    add("queue_length", 4, T0 + dt.timedelta(minutes=1))
    series = get_series("queue_length", start=T0, end=T0 + dt.timedelta(hours=1), resolution="hour")
    assert series.values["avg"] == [3.5]
    assert series.values["last"] == [4]
    assert isinstance(series.values["min"][0], int)
    assert isinstance(series.summary, int)


def test_filter_values_are_cleaned_like_the_field():
    add("orders", 1, T0, plan="pro")
    span = {"start": T0, "end": T0 + dt.timedelta(hours=1), "resolution": "hour"}
    assert get_series("orders", filters={"plan": "nope"}, **span).values["sum"] == [0]
    assert get_series("orders", filters={"plan": ("pro",)}, **span).summary == 1


# -- bucket sizes between the stored resolutions -----------------------------------


def test_five_minute_buckets_sum_the_minute_rollups():
    for minute, value in [(0, 1), (4, 2), (5, 4), (14, 8)]:
        add("user_count", value, T0 + dt.timedelta(minutes=minute, seconds=30))
    series = get_series(
        "user_count", start=T0, end=T0 + dt.timedelta(minutes=15), resolution="5min"
    )
    assert series.buckets == [T0 + dt.timedelta(minutes=m) for m in (0, 5, 10)]
    assert series.values["sum"] == [3, 4, 8]
    assert series.summary == 15


def test_three_hour_buckets_follow_the_site_wall_clock_and_merge_percentiles():
    local = dt.datetime(2024, 6, 3, 0, 0, tzinfo=BERLIN)
    for hours, ms in [(0.5, 10.0), (2.5, 1000.0), (3.5, 20.0)]:
        add("request_time", ms, local + dt.timedelta(hours=hours))
    series = get_series(
        "request_time", start=local, end=local + dt.timedelta(hours=6), resolution="3h"
    )
    # Berlin's 00:00 and 03:00, not UTC's (22:00 and 01:00 the day before).
    assert [b.astimezone(BERLIN).hour for b in series.buckets] == [0, 3]
    assert series.values["count"] == [2, 1]
    assert series.values["max"] == [1000.0, 20.0]
    assert series.values["p50"][0] == pytest.approx(10.0, rel=0.05)


def test_three_hour_buckets_across_daylight_saving_keep_the_wall_clock():
    start = dt.datetime(2024, 3, 31, 0, 0, tzinfo=BERLIN)  # 02:00 does not exist that night
    series = get_series(
        "user_count", start=start, end=start + dt.timedelta(hours=9), resolution="3h"
    )
    assert [b.astimezone(BERLIN).hour for b in series.buckets] == [0, 3, 6]
    # The first bucket lasts two hours: the clock jumped from 02:00 to 03:00.
    assert series.buckets[1].astimezone(UTC) - series.buckets[0].astimezone(UTC) == (
        dt.timedelta(hours=2)
    )


def test_week_buckets_start_on_monday_at_local_midnight():
    add("user_count", 2, dt.datetime(2024, 6, 2, 23, 30, tzinfo=BERLIN))  # a Sunday
    add("user_count", 5, dt.datetime(2024, 6, 3, 0, 30, tzinfo=BERLIN))  # the Monday after
    series = get_series(
        "user_count",
        start=dt.datetime(2024, 5, 29, tzinfo=BERLIN),
        end=dt.datetime(2024, 6, 5, tzinfo=BERLIN),
        resolution="week",
    )
    assert series.buckets == [
        dt.datetime(2024, 5, 27, tzinfo=BERLIN),
        dt.datetime(2024, 6, 3, tzinfo=BERLIN),
    ]
    assert series.values["sum"] == [2, 5]


def test_split_counts_are_regrouped_per_value():
    add("orders", 1, T0 + dt.timedelta(minutes=1), plan="pro")
    add("orders", 2, T0 + dt.timedelta(minutes=7), plan="free")
    add("orders", 4, T0 + dt.timedelta(minutes=8), plan="pro")
    series = get_series(
        "orders",
        start=T0,
        end=T0 + dt.timedelta(minutes=10),
        resolution="5min",
        split_by="plan",
    )
    groups = {group.label: group.values["sum"] for group in series.groups}
    assert groups == {"pro": [1, 4], "free": [0, 2]}


def test_count_splits_and_filters_are_summed_in_the_database():
    # Three plans; the filter keeps two, the split shows the top one and sums the rest.
    for minute, plan, value in [(1, "pro", 5), (2, "team", 2), (3, "team", 1), (4, "free", 9)]:
        add("orders", value, T0 + dt.timedelta(minutes=minute), plan=plan)
    add("orders", 7, T0 - dt.timedelta(minutes=30), plan="team")  # the period before
    add("orders", 100, T0 - dt.timedelta(minutes=30), plan="free")  # filtered out
    series = get_series(
        "orders",
        start=T0,
        end=T0 + dt.timedelta(hours=1),
        resolution="15min",
        filters={"plan": ["pro", "team"]},
        split_by="plan",
        top=1,
    )
    assert series.values["sum"] == [8, 0, 0, 0]
    assert [(g.label, g.total, g.values["sum"]) for g in series.groups] == [
        ("pro", 5, [5, 0, 0, 0]),
        ("other", 3, [3, 0, 0, 0]),
    ]
    assert (series.summary, series.previous_summary) == (8, 7)


def test_a_count_split_reads_only_the_rows_of_the_top_values():
    for i in range(3):
        add("orders", 1, T0 + dt.timedelta(minutes=i), plan=["free", "pro", "team"][i])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        get_series("orders", start=T0, end=T0 + dt.timedelta(hours=1), split_by="plan", top=1)
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "GROUP BY" in sql
    # The rows read one by one are those of the top value only.
    per_row = [q["sql"] for q in queries.captured_queries if '"last_at"' in q["sql"]]
    assert len(per_row) == 1 and " IN (" in per_row[0]


def test_a_plain_count_chart_is_one_query_and_its_previous_period_one_more():
    add("orders", 2, T0 + dt.timedelta(minutes=5), plan="pro")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        series = get_series("orders", start=T0, end=T0 + dt.timedelta(days=1))
    # The chart's buckets are the headline's: no ranking of dimension values, no second read.
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert all("GROUP BY" in q["sql"] for q in queries.captured_queries)
    assert series.summary == 2
