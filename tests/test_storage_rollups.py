"""Rollups equal a recomputation from the raw rows, around DST changes and bucket edges."""

import datetime as dt
import json
import math
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.models import Rollup, RollupBin
from monitoring.queries import floor_bucket, get_series
from monitoring.register import monitor
from monitoring.storage.maintenance import rebuild
from monitoring.storage.rollups import bin_of
from test_app.models import MonitorOrderCount, MonitorRequestTime

UTC = dt.timezone.utc
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")

#: Instants where buckets are easy to get wrong: Berlin's DST changes of 2024
#: (01:00 UTC), the local midnights around them, and plain hour and day edges.
ANCHORS = [
    dt.datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
    dt.datetime(2024, 10, 27, 1, 0, tzinfo=UTC),
    dt.datetime(2024, 3, 31, tzinfo=BERLIN).astimezone(UTC),
    dt.datetime(2024, 4, 1, tzinfo=BERLIN).astimezone(UTC),
    dt.datetime(2024, 10, 27, tzinfo=BERLIN).astimezone(UTC),
    dt.datetime(2024, 10, 28, tzinfo=BERLIN).astimezone(UTC),
    dt.datetime(2024, 6, 3, 23, 0, tzinfo=UTC),
]
NUDGES = [
    dt.timedelta(0),
    dt.timedelta(microseconds=-1),
    dt.timedelta(microseconds=1),
    dt.timedelta(seconds=59, microseconds=999999),
    dt.timedelta(minutes=-1),
    dt.timedelta(hours=-1),
    dt.timedelta(hours=1),
]

instants = st.one_of(
    st.builds(lambda a, n: a + n, st.sampled_from(ANCHORS), st.sampled_from(NUDGES)),
    st.builds(
        lambda a, s: a + dt.timedelta(seconds=s),
        st.sampled_from(ANCHORS),
        st.floats(min_value=-2 * 86400, max_value=2 * 86400, allow_nan=False),
    ),
)
orders = st.tuples(instants, st.integers(0, 1000), st.sampled_from(["free", "pro", "team"]))
timings = st.tuples(instants, st.floats(min_value=0, max_value=1e6, allow_nan=False))


def stored():
    """Return the rollup and bin tables as comparable dicts."""
    rows = {
        (r.monitor, r.resolution, r.start, r.dimensions): (
            r.count,
            pytest.approx(r.sum),
            r.min,
            r.max,
            r.last,
        )
        for r in Rollup.objects.all()
    }
    bins = {
        (b.monitor, b.resolution, b.start, b.dimensions, b.bin): b.count
        for b in RollupBin.objects.all()
    }
    return rows, bins


def recomputed():
    """Return what the rollups should be, straight from the raw rows and floor_bucket()."""
    rows, bins = {}, {}
    sources = [
        (
            "orders",
            MonitorOrderCount,
            lambda row: json.dumps({"plan": row.plan}, separators=(",", ":")),
        ),
        ("request_time", MonitorRequestTime, lambda row: ""),
    ]
    for name, model, key_of in sources:
        # Ties on the time go to the row added last, as they do in the upserts.
        for row in model.objects.order_by("created", "pk"):
            for resolution in ("minute", "hour", "day"):
                start = int(floor_bucket(row.created, resolution).timestamp())
                key = (name, resolution, start, key_of(row))
                count, total, low, high, _ = rows.get(key, (0, 0, math.inf, -math.inf, None))
                rows[key] = (
                    count + 1,
                    total + row.value,
                    min(low, row.value),
                    max(high, row.value),
                    row.value,
                )
                if name == "request_time":
                    bin_key = (*key, bin_of(row.value))
                    bins[bin_key] = bins.get(bin_key, 0) + 1
    rows = {key: (c, pytest.approx(s), lo, hi, last) for key, (c, s, lo, hi, last) in rows.items()}
    return rows, bins


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batches=st.lists(
        st.tuples(st.lists(orders, max_size=12), st.lists(timings, max_size=12)),
        min_size=1,
        max_size=3,
    )
)
def test_rollups_equal_a_recomputation_from_raw_rows(buffered, batches):
    for model in (Rollup, RollupBin, MonitorOrderCount, MonitorRequestTime):
        model.objects.all().delete()
    for batch_orders, batch_timings in batches:  # several flushes upsert into the same rows
        for at, value, plan in batch_orders:
            monitor.get("orders").add(value, at=at, plan=plan)
        for at, value in batch_timings:
            monitor.get("request_time").add(value, at=at)
        monitor.flush()
    expected = recomputed()
    assert stored() == expected
    # And a rebuild from the raw rows gives the same tables.
    rebuild([monitor.get("orders"), monitor.get("request_time")], batch_size=5)
    assert stored() == expected


@pytest.mark.django_db
def test_series_from_rollups_match_the_raw_rows_across_a_dst_change():
    start = dt.datetime(2024, 10, 26, tzinfo=BERLIN)
    at = start
    while at < start + dt.timedelta(days=3):
        monitor.get("orders").add(1, at=at, plan="pro")
        at += dt.timedelta(minutes=47)
    series = get_series("orders", start=start, end=start + dt.timedelta(days=3), resolution="day")
    raw = [
        MonitorOrderCount.objects.filter(created__gte=b, created__lt=e).count()
        for b, e in zip(series.buckets, [*series.buckets[1:], series.end], strict=True)
    ]
    assert series.values["sum"] == raw
    assert sum(raw) == MonitorOrderCount.objects.count()
    # Python subtracts same-zone datetimes by wall clock; compare in UTC: 25 + 24 hours.
    assert series.end.astimezone(UTC) - series.buckets[1].astimezone(UTC) == dt.timedelta(hours=49)


@pytest.fixture
def shipments(django_db_blocker):
    """A count monitor with ForeignKey, integer and float dimensions, its table, 3 users."""
    from django.contrib.auth.models import User
    from django.db import connection, models
    from django.test.utils import isolate_apps

    from monitoring.models import IntegerCountBase
    from monitoring.views import IntegerCountView

    with isolate_apps("test_app"):

        class MonitorShipments(IntegerCountBase):
            customer = models.ForeignKey(User, on_delete=models.DO_NOTHING, null=True)
            boxes = models.IntegerField(default=1)
            weight = models.FloatField(default=0.0)

            class Meta:
                app_label = "test_app"

    with connection.schema_editor() as editor:
        editor.create_model(MonitorShipments)
    monitor.register("shipments", IntegerCountView.as_view(model=MonitorShipments))
    users = [User.objects.create(username=f"shipper{i}") for i in range(3)]
    yield MonitorShipments, users
    with connection.schema_editor() as editor:
        editor.delete_model(MonitorShipments)


spellings = st.sampled_from(["instance", "pk", "text", "none"])
shipment_points = st.lists(
    st.tuples(
        instants,
        st.integers(-5, 5),
        spellings,
        st.integers(0, 2),
        st.integers(-(2**31), 2**31 - 1),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
    ),
    max_size=15,
)


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(shipment_points, min_size=1, max_size=3))
def test_any_valid_adds_keep_raw_rows_and_rollups_in_agreement(shipments, buffered, batches):
    from monitoring.storage.rollups import dimension_key

    model, users = shipments
    model.objects.all()._raw_delete("default")
    Rollup.objects.filter(monitor="shipments").delete()
    for batch in batches:
        for at, value, spelling, index, boxes, weight in batch:
            user = users[index]
            customer = {"instance": user, "pk": user.pk, "text": str(user.pk), "none": None}
            model.add(value, at=at, customer=customer[spelling], boxes=boxes, weight=weight)
        monitor.flush()
    expected = {}
    for row in model.objects.all():
        key = dimension_key(
            ["customer", "boxes", "weight"], [row.customer_id, row.boxes, float(row.weight)]
        )
        for resolution in ("minute", "hour", "day"):
            bucket = (resolution, int(floor_bucket(row.created, resolution).timestamp()), key)
            count, total = expected.get(bucket, (0, 0))
            expected[bucket] = (count + 1, total + row.value)

    def stored_shipments():
        return {
            (r.resolution, r.start, r.dimensions): (r.count, r.sum)
            for r in Rollup.objects.filter(monitor="shipments")
        }

    assert stored_shipments() == expected
    rebuild([monitor.get("shipments")])
    assert stored_shipments() == expected
