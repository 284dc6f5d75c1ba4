"""Charts of existing tables: monitor.register_model().

The strongest check here puts the same events into a table charted by
register_model() and into a recorded count monitor, and asks both for the
same series: buckets, zones, daylight saving, filters and splits must agree.
"""

import csv
import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.models import Avg, Count, F, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.exceptions import AlreadyRegistered
from monitoring.queries import get_series, last_point
from monitoring.register import monitor
from monitoring.storage.maintenance import rebuild
from monitoring.tables import TableMonitor
from test_app.models import Order

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# The Sunday clocks went forward in Berlin: 31 March 2024 had 23 hours.
DST = dt.datetime(2024, 3, 31, 12, 0, tzinfo=BERLIN)


def order(at, plan="free", total="10.00", paid=True):
    """Place an order at ``at`` in the table and in the recorded 'orders' monitor."""
    Order.objects.create(placed=at, plan=plan, total=Decimal(total), paid=paid)
    monitor.get("orders").add(1, at=at, plan=plan)


def store(moment):
    """Return ``moment`` as the database field takes it: naive in Berlin without USE_TZ."""
    from django.conf import settings

    return moment if settings.USE_TZ else timezone.make_naive(moment, BERLIN)


@pytest.fixture
def orders_table():
    """Register 'order_count': the orders table counted, by plan."""
    return monitor.register_model(
        "order_count", Order, date_field="placed", dimensions=["plan", "paid"]
    )


def events(start):
    """Place orders around ``start``: both sides of local midnights and the DST change."""
    plans = ["free", "pro", "team", "free", "pro", "free", "free", "team"]
    moments = [
        start + dt.timedelta(minutes=37 * i + 11 * (i % 3)) for i in range(0, 80)
    ]  # about two days, minute-irregular
    moments += [start + dt.timedelta(hours=h) for h in (-1, 22, 23, 24, 25, 47, 49)]
    for i, at in enumerate(moments):
        order(store(at), plan=plans[i % len(plans)])
    return moments


@pytest.mark.parametrize("resolution", ["minute", "15min", "hour", "3h", "12h", "day", "week"])
@pytest.mark.parametrize("use_tz", [True, False])
def test_same_buckets_as_a_recorded_count_across_dst(
    settings, orders_table, resolution, use_tz, freeze_now
):
    settings.USE_TZ = use_tz
    freeze_now(DST + dt.timedelta(days=3))
    start = dt.datetime(2024, 3, 30, 20, 0, tzinfo=BERLIN)
    events(start)
    span = {"minute": dt.timedelta(hours=3)}.get(resolution, dt.timedelta(days=2, hours=6))
    kwargs = {"start": start, "end": start + span, "resolution": resolution}
    table = get_series("order_count", **kwargs)
    recorded = get_series("orders", **kwargs)
    assert table.buckets == recorded.buckets
    assert table.values == recorded.values
    assert sum(table.values["sum"]) > 0
    assert (table.summary, table.previous_summary) == (recorded.summary, recorded.previous_summary)


def test_day_buckets_start_at_local_midnight_on_the_short_day(orders_table, freeze_now):
    freeze_now(DST + dt.timedelta(days=3))
    order(dt.datetime(2024, 3, 30, 23, 59, tzinfo=BERLIN))  # Saturday
    order(dt.datetime(2024, 3, 31, 0, 1, tzinfo=BERLIN))  # Sunday, 23 hours long
    order(dt.datetime(2024, 3, 31, 23, 59, tzinfo=BERLIN))
    order(dt.datetime(2024, 4, 1, 0, 0, tzinfo=BERLIN))  # Monday
    series = get_series(
        "order_count",
        start=dt.datetime(2024, 3, 30, tzinfo=BERLIN),
        end=dt.datetime(2024, 4, 2, tzinfo=BERLIN),
        resolution="day",
    )
    assert [b.astimezone(BERLIN).day for b in series.buckets] == [30, 31, 1]
    # In UTC: Python subtracts datetimes of one zone by their wall clocks.
    assert series.buckets[2].astimezone(UTC) - series.buckets[1].astimezone(UTC) == dt.timedelta(
        hours=23
    )
    assert series.values == {"sum": [1, 2, 1]}


def test_zone_decides_the_day(settings, orders_table, freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    Order.objects.create(placed=dt.datetime(2024, 6, 3, 23, 30, tzinfo=UTC), total=1)
    kwargs = {
        "start": dt.datetime(2024, 6, 3, tzinfo=UTC),
        "end": dt.datetime(2024, 6, 5, 12, tzinfo=UTC),
        "resolution": "day",
    }
    settings.TIME_ZONE = "Europe/Berlin"  # 01:30 on 4 June
    assert get_series("order_count", **kwargs).values == {"sum": [0, 1, 0]}
    settings.TIME_ZONE = "America/New_York"  # 19:30 on 3 June; the range starts on 2 June
    assert get_series("order_count", **kwargs).values == {"sum": [0, 1, 0, 0]}


def test_range_bounds_the_rows(orders_table, freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    for minutes in (-1, 0, 59, 60, 120):
        Order.objects.create(placed=t0 + dt.timedelta(minutes=minutes), total=1)
    series = get_series("order_count", start=t0, end=t0 + dt.timedelta(hours=2), resolution="hour")
    assert series.values == {"sum": [2, 1]}
    assert series.summary == 3
    assert series.previous_summary == 1  # the one a minute before, in the 2 hours before


def test_sum_of_a_decimal_field_and_empty_buckets(freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    monitor.register_model("takings", Order, date_field="placed", value=Sum("total"))
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    Order.objects.create(placed=t0, total=Decimal("10.25"))
    Order.objects.create(placed=t0 + dt.timedelta(minutes=5), total=Decimal("4.75"))
    Order.objects.create(placed=t0 + dt.timedelta(hours=2), total=Decimal("2.50"))
    series = get_series("takings", start=t0, end=t0 + dt.timedelta(hours=3), resolution="hour")
    assert series.values == {"sum": [15, 0, 2.5]}
    assert series.summary == 17.5
    assert monitor.get("takings").integer is False


def test_a_queryset_and_a_filtered_count(orders_table, freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    monitor.register_model("pro_orders", Order.objects.filter(plan="pro"), date_field="placed")
    monitor.register_model(
        "unpaid", Order, date_field="placed", value=Count("pk", filter=Q(paid=False))
    )
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    Order.objects.create(placed=t0, plan="pro", total=1, paid=False)
    Order.objects.create(placed=t0, plan="pro", total=1)
    Order.objects.create(placed=t0, plan="free", total=1, paid=False)
    kwargs = {"start": t0, "end": t0 + dt.timedelta(hours=1), "resolution": "hour"}
    assert get_series("pro_orders", **kwargs).values == {"sum": [2]}
    assert get_series("unpaid", **kwargs).values == {"sum": [2]}


def test_empty_table(orders_table, freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    series = get_series("order_count", resolution="hour")
    assert series.values == {"sum": [0] * 24}
    assert (series.summary, series.previous_summary) == (0, 0)
    assert last_point("order_count") is None


@pytest.mark.parametrize("use_tz", [True, False])
def test_last_point_is_the_newest_row(settings, orders_table, use_tz):
    settings.USE_TZ = use_tz
    at = dt.datetime(2024, 6, 3, 12, 30, tzinfo=UTC)
    Order.objects.create(placed=store(at - dt.timedelta(days=1)), total=1)
    Order.objects.create(placed=store(at), total=1)
    assert last_point("order_count") == at


@pytest.mark.parametrize("use_tz", [True, False])
def test_filters_and_split_match_a_recorded_count(settings, orders_table, use_tz, freeze_now):
    settings.USE_TZ = use_tz
    freeze_now(DST + dt.timedelta(days=3))
    start = dt.datetime(2024, 3, 30, 20, 0, tzinfo=BERLIN)
    events(start)
    kwargs = {"start": start, "end": start + dt.timedelta(days=2), "resolution": "3h"}
    for options in (
        {"filters": {"plan": "pro"}},
        {"filters": {"plan": ["pro", "team"]}},
        {"split_by": "plan", "top": 1},
        {"split_by": "plan", "top": 5},
        {"split_by": "plan", "top": 2, "filters": {"plan": ["free", "pro", "team"]}},
    ):
        table = get_series("order_count", **kwargs, **options)
        recorded = get_series("orders", **kwargs, **options)
        assert table.values == recorded.values, options
        assert table.groups == recorded.groups, options
        assert table.summary == recorded.summary, options
    split = get_series("order_count", **kwargs, split_by="plan", top=1)
    assert [g.label for g in split.groups] == ["free", "other"]


def test_boolean_dimension_and_values_that_match_nothing(orders_table, freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    Order.objects.create(placed=t0, total=1, paid=False)
    Order.objects.create(placed=t0, total=1)
    Order.objects.create(placed=t0, total=1)
    kwargs = {"start": t0, "end": t0 + dt.timedelta(hours=1), "resolution": "hour"}
    assert get_series("order_count", **kwargs, filters={"paid": "False"}).values["sum"] == [1]
    assert get_series("order_count", **kwargs, filters={"paid": "maybe"}).values["sum"] == [0]
    split = get_series("order_count", **kwargs, split_by="paid")
    assert [(g.label, g.total) for g in split.groups] == [("True", 2), ("False", 1)]
    with pytest.raises(ValueError, match="no dimension 'total'"):
        get_series("order_count", **kwargs, split_by="total")
    with pytest.raises(ValueError, match="no dimension 'colour'"):
        get_series("order_count", **kwargs, filters={"colour": "red"})


def test_split_by_a_nullable_foreign_key(freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    user = get_user_model().objects.create(username="ann")
    monitor.register_model("logins_seen", get_user_model(), date_field="last_login")
    assert monitor.get("logins_seen").dimension_names() == []
    # A foreign key column (to a user) as a dimension: its values are primary keys.
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    monitor.register_model(
        "admin_actions", LogEntry, date_field="action_time", dimensions=["user", "content_type"]
    )
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    kind = ContentType.objects.get_for_model(Order)
    LogEntry.objects.create(user=user, action_flag=1, object_repr="x")
    LogEntry.objects.create(user=user, action_flag=1, object_repr="y", content_type=kind)
    LogEntry.objects.update(action_time=t0)
    kwargs = {"start": t0, "end": t0 + dt.timedelta(hours=1), "resolution": "hour"}
    split = get_series("admin_actions", **kwargs, split_by="user")
    assert [(g.label, g.total) for g in split.groups] == [(str(user.pk), 2)]
    assert get_series("admin_actions", **kwargs, filters={"user": user}).summary == 2
    assert get_series("admin_actions", **kwargs, filters={"user": user.pk + 1}).summary == 0
    # None matches the rows without a value (SQL's IS NULL, which IN never matches).
    assert get_series("admin_actions", **kwargs, filters={"content_type": None}).summary == 1
    both = get_series("admin_actions", **kwargs, filters={"content_type": [None, kind.pk]})
    assert both.summary == 2
    split = get_series("admin_actions", **kwargs, split_by="content_type")
    assert sorted(g.label for g in split.groups) == sorted(["None", str(kind.pk)])


# -- registration ---------------------------------------------------------------


def test_register_model_returns_a_count_handle_with_its_options():
    handle = monitor.register_model(
        "user_signups",
        get_user_model(),
        date_field="date_joined",
        dimensions=["is_staff"],
        title="Sign-ups",
        category="Users",
        unit="users",
    )
    assert isinstance(handle, TableMonitor)
    assert monitor.get("user_signups") is handle
    assert (handle.kind, handle.integer, handle.stored) == ("count", True, False)
    assert (handle.title, handle.category, handle.unit) == ("Sign-ups", "Users", "users")
    assert handle.dimension_names() == ["is_staff"]
    assert "auth.User.date_joined" in repr(handle)
    # Charting a table twice is fine: each chart is a query of its own.
    monitor.register_model("signups_again", get_user_model(), date_field="date_joined")
    # ...and a recorded monitor of the same name is not.
    with pytest.raises(AlreadyRegistered, match="'orders' is already registered"):
        monitor.register_model("orders", Order, date_field="placed")


def test_add_on_a_table_monitor_says_what_to_do_instead(orders_table):
    with pytest.raises(TypeError, match=r"charts the table of test_app\.Order by its 'placed'"):
        orders_table.add(1)
    with pytest.raises(TypeError, match=r"save a Order instead"):
        monitor.get("order_count").add()
    with pytest.raises(TypeError, match="count monitor; time"):
        orders_table.time()


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("bad name", Order), {"date_field": "placed"}, "is not a slug"),
        (("x", "Order"), {"date_field": "placed"}, "charts a model or a queryset, not 'Order'"),
        (("x", Order), {"date_field": "when"}, "has no field 'when' to chart by; .*: placed"),
        (("x", Order), {"date_field": "total"}, "is a DecimalField; charts need a DateTimeField"),
        (("x", Order), {"date_field": None}, "date_field must be the name of a field"),
        (("x", Order), {"date_field": "placed", "value": Avg("total")}, "Count\\(\\) or Sum\\(\\)"),
        (("x", Order), {"date_field": "placed", "value": "total"}, "Count\\(\\) or Sum\\(\\)"),
        (("x", Order), {"date_field": "placed", "value": Sum("price")}, "Sum\\(F\\(price\\)\\)"),
        # The database would refuse these on the chart's first read (SUM(varchar)).
        (
            ("x", Order),
            {"date_field": "placed", "value": Sum("plan")},
            "Sum\\(F\\(plan\\)\\) adds up a CharField; Sum\\(\\) needs a number field of "
            "test_app.Order",
        ),
        (("x", Order), {"date_field": "placed", "value": Sum("placed")}, "adds up a DateTimeField"),
        (("x", Order), {"date_field": "placed", "value": Sum("paid")}, "adds up a BooleanField"),
        (("x", Order), {"date_field": "placed", "dimensions": "plan"}, "like \\['plan'\\]"),
        (("x", Order), {"date_field": "placed", "dimensions": ["tier"]}, "no column 'tier'"),
        (("x", Order), {"date_field": "placed", "dimensions": ["plan", "plan"]}, "listed twice"),
        (
            ("x", get_user_model()),
            {"date_field": "date_joined", "dimensions": ["groups"]},
            "no column 'groups'",
        ),
    ],
)
def test_register_model_refuses_bad_definitions(args, kwargs, message):
    error = ValueError if message == "is not a slug" else ImproperlyConfigured
    with pytest.raises(error, match=message):
        monitor.register_model(*args, **kwargs)
    assert not monitor.is_registered("x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Sum("pk"), None), (Sum(F("total") * 2), 29.0), (Sum(F("total"), filter=Q(paid=True)), 10.25)],
    ids=["integer key", "decimal expression", "filtered decimal"],
)
def test_sums_of_number_fields_are_taken_and_read(value, expected, freeze_now):
    freeze_now(dt.datetime(2024, 6, 10, tzinfo=UTC))
    monitor.register_model("x", Order, date_field="placed", value=value)
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    first = Order.objects.create(placed=t0, total=Decimal("10.25"))
    second = Order.objects.create(placed=t0, total=Decimal("4.25"), paid=False)
    series = get_series("x", start=t0, end=t0 + dt.timedelta(hours=1), resolution="hour")
    assert series.summary == (first.pk + second.pk if expected is None else expected)


def test_abstract_model_is_refused():
    from monitoring.models import IntegerCountBase

    with pytest.raises(ImproperlyConfigured, match="IntegerCountBase is abstract"):
        monitor.register_model("x", IntegerCountBase, date_field="created")


def test_table_monitors_are_left_out_of_rebuild(orders_table):
    assert "order_count" not in rebuild([orders_table, monitor.get("orders")])
    # The recorded model of 'orders' still maps to its own monitor.
    from test_app.models import MonitorOrderCount

    assert monitor.get_for_model(MonitorOrderCount).name == "orders"
    assert monitor.get_for_model(Order) is None


# -- the check -------------------------------------------------------------------


def test_check_warns_about_a_date_field_without_index():
    monitor.register_model("user_signups", get_user_model(), date_field="date_joined")
    warnings = [m for m in run_checks() if m.id == "monitoring.W040"]
    assert len(warnings) == 1
    assert "'user_signups' charts auth.User by 'date_joined', which has no index" in warnings[0].msg
    assert "CREATE INDEX auth_user_date_joined_idx ON auth_user (date_joined)" in warnings[0].hint
    assert warnings[0].obj is get_user_model()


def test_check_accepts_an_indexed_date_field(orders_table):
    # Order.placed has db_index=True, and so does the demo's 'revenue' chart of it.
    assert [m for m in run_checks() if m.id == "monitoring.W040"] == []


def test_check_accepts_an_index_that_starts_with_the_field():
    from django.contrib.admin.models import LogEntry
    from django.db import models

    monitor.register_model("admin_actions", LogEntry, date_field="action_time")
    assert [m.id for m in run_checks() if m.id == "monitoring.W040"] == ["monitoring.W040"]
    indexes = LogEntry._meta.indexes
    try:
        LogEntry._meta.indexes = [models.Index(fields=["-action_time", "user"], name="x_idx")]
        assert [m for m in run_checks() if m.id == "monitoring.W040"] == []
        LogEntry._meta.indexes = [models.Index(fields=["user", "action_time"], name="x_idx")]
        assert [m.id for m in run_checks() if m.id == "monitoring.W040"] == ["monitoring.W040"]
    finally:
        LogEntry._meta.indexes = indexes


def test_check_command_shows_the_warning():
    monitor.register_model("user_signups", get_user_model(), date_field="date_joined")
    err = io.StringIO()
    call_command("check", stderr=err, stdout=io.StringIO())
    assert "monitoring.W040" in err.getvalue()


# -- the cache -------------------------------------------------------------------


@pytest.fixture
def cached(settings):
    settings.MONITORING_TABLE_CACHE_TIMEOUT = 60
    cache.clear()
    yield
    cache.clear()


def test_cache_answers_a_repeated_chart_without_a_query(cached, orders_table, freeze_now):
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    freeze_now(t0)
    Order.objects.create(placed=t0 - dt.timedelta(minutes=30), total=1)
    first = get_series("order_count")
    Order.objects.create(placed=t0 - dt.timedelta(minutes=20), total=1)
    freeze_now(t0 + dt.timedelta(seconds=10))
    with CaptureQueriesContext(connection) as queries:
        again = get_series("order_count")
    assert len(queries) == 0
    assert again == first
    assert again.summary == 1
    # A minute later (the timeout), the chart reads the table again.
    freeze_now(t0 + dt.timedelta(seconds=61))
    with CaptureQueriesContext(connection) as queries:
        fresh = get_series("order_count")
    assert len(queries) > 0
    assert fresh.summary == 2


def test_cache_keys_tell_queries_and_definitions_apart(cached, freeze_now):
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    freeze_now(t0)
    Order.objects.create(placed=t0 - dt.timedelta(minutes=30), plan="pro", total=5)
    monitor.register_model("order_count", Order, date_field="placed", dimensions=["plan"])
    assert get_series("order_count").summary == 1
    assert get_series("order_count", filters={"plan": "free"}).summary == 0
    assert get_series("order_count", split_by="plan").groups[0].label == "pro"
    monitor.unregister("order_count")
    monitor.register_model("order_count", Order, date_field="placed", value=Sum("total"))
    assert get_series("order_count").summary == 5


def test_without_cache_every_chart_reads_the_table(orders_table, freeze_now):
    t0 = dt.datetime(2024, 6, 3, 12, tzinfo=UTC)
    freeze_now(t0)
    assert get_series("order_count").summary == 0
    Order.objects.create(placed=t0 - dt.timedelta(minutes=30), total=1)
    assert get_series("order_count").summary == 1


# -- views: the same card, page, JSON and CSV ---------------------------------------


def test_json_and_csv(staff_client_at, freeze_now):
    now = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
    client = staff_client_at(now)
    for hours, plan, total in ((1, "pro", "29.00"), (2, "free", "9.00"), (2, "pro", "29.00")):
        Order.objects.create(placed=now - dt.timedelta(hours=hours), plan=plan, total=total)
    url = reverse("monitoring:monitor", args=["revenue"])
    data = client.get(url, {"format": "json", "range": "24h", "resolution": "hour"}).json()
    assert data["kind"] == "count"
    assert data["title"] == "Revenue"
    assert data["unit"] == "EUR"
    assert data["summary"]["value"] == 67
    assert data["split_by"] == "plan"
    assert [(g["label"], g["total"]) for g in data["groups"]] == [("pro", 58), ("free", 9)]
    assert data["values"]["sum"][-3:] == [0, 38, 29]
    params = {"format": "csv", "range": "24h", "resolution": "hour", "plan": "pro"}
    response = client.get(url, params)
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["start", "sum", "plan=pro sum"]
    assert [row[1:] for row in rows[-3:]] == [["0", "0"], ["29", "29"], ["29", "29"]]
    bad = client.get(url, {"format": "json", "plan": "gold"})
    assert bad.status_code == 400
    assert bad.json()["parameter"] == "plan"


def test_card_page_and_dashboard(staff_client_at):
    now = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
    client = staff_client_at(now)
    url = reverse("monitoring:monitor", args=["revenue"])
    empty = client.get(url, {"format": "card", "range": "24h"})
    assert empty.status_code == 200
    assert "No data" in empty.content.decode() or "data-empty" in empty.content.decode()
    Order.objects.create(placed=now - dt.timedelta(hours=1), total="1234.00")
    card = client.get(url, {"format": "card", "range": "24h"}).content.decode()
    assert "Revenue" in card
    assert "1,234" in card
    page = client.get(url)
    assert page.status_code == 200
    assert "Revenue" in page.content.decode()
    dashboard = client.get(reverse("monitoring:dashboard")).content.decode()
    assert url in dashboard


def test_monitoring_list_reads_the_table(freeze_now):
    import json

    now = freeze_now(dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC))
    Order.objects.create(placed=dt.datetime(2024, 6, 2, 21, 59, tzinfo=UTC), total=5)  # Berlin 2nd
    Order.objects.create(placed=dt.datetime(2024, 6, 2, 22, 0, tzinfo=UTC), total=7)  # 3rd, 00:00
    Order.objects.create(placed=now - dt.timedelta(hours=1), total=11)
    out = io.StringIO()
    call_command("monitoring_list", "--format", "json", stdout=out)
    row = {r["name"]: r for r in json.loads(out.getvalue())}["revenue"]
    assert row == {
        "name": "revenue",
        "kind": "count",
        "category": "Shop",
        "last_value": None,
        "points_today": 18,
        "last_write": "2024-06-03T13:00:00+02:00",
    }


def test_a_broken_cache_does_not_break_the_chart(settings, orders_table, freeze_now, caplog):
    settings.MONITORING_TABLE_CACHE_TIMEOUT = 60
    settings.CACHES = {"default": {"BACKEND": "tests.test_tables.BrokenCache"}}
    t0 = freeze_now(dt.datetime(2024, 6, 3, 12, tzinfo=UTC))
    Order.objects.create(placed=t0 - dt.timedelta(minutes=30), total=1)
    assert get_series("order_count").summary == 1
    assert "could not read the cache 'default': cache server down" in caplog.text


def test_the_cache_key_has_the_time_zone(cached, orders_table, settings, freeze_now):
    t0 = freeze_now(dt.datetime(2024, 6, 3, 12, tzinfo=UTC))
    Order.objects.create(placed=dt.datetime(2024, 6, 2, 23, 30, tzinfo=UTC), total=1)
    kwargs = {"start": dt.datetime(2024, 6, 2, 12, tzinfo=UTC), "end": t0, "resolution": "day"}
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = get_series("order_count", **kwargs)
    settings.TIME_ZONE = "UTC"
    assert get_series("order_count", **kwargs).buckets != berlin.buckets


class BrokenCache:
    """A cache whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def get(self, *args, **kwargs):
        raise ConnectionError("cache server down")

    def set(self, *args, **kwargs):
        raise ConnectionError("cache server down")

    def close(self, **kwargs):
        pass
