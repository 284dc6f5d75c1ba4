"""/monitoring/metrics: the Prometheus exposition, read back with prometheus_client's parser."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import zoneinfo
from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.db.models import Sum
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import BUCKETS_SECONDS, RollupCollector, exported_names, metric_name
from monitoring.models import Rollup
from monitoring.register import monitor
from monitoring.tables import table_totals
from tests.conftest import ROOT
from tests.factories import (
    OrderCountFactory,
    QueueLengthFactory,
    RequestTimeFactory,
    UserCountFactory,
)

TOKEN = "s3cret-token-for-tests"
# A fixed clock: the points go into known past days, whatever the hour of the run.
NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.timezone.utc)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(db):
    UserCountFactory.create_batch(3, created=NOW - dt.timedelta(days=2))
    UserCountFactory(value=4, created=NOW)
    OrderCountFactory(plan="pro", value=5, created=NOW - dt.timedelta(days=40))
    OrderCountFactory(plan="pro", value=2, created=NOW)
    OrderCountFactory(plan="free", value=1, created=NOW)
    QueueLengthFactory(value=12, created=NOW - dt.timedelta(days=1))
    QueueLengthFactory(value=7, created=NOW - dt.timedelta(minutes=5))
    QueueLengthFactory(value=9, created=NOW - dt.timedelta(hours=3))
    for ms in [0.5, 3.0, 80.0, 120.0, 450.0, 90_000.0]:
        RequestTimeFactory(value=ms, created=NOW - dt.timedelta(days=3))


def scrape(client, token=TOKEN):
    with override_settings(MONITORING_METRICS_TOKEN=TOKEN):
        return client.get("/monitoring/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def families(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def samples(family, suffix=""):
    return {
        tuple(sorted(s.labels.items())): s.value
        for s in family.samples
        if s.name == family.name + suffix
    }


def test_counts_are_counters_with_their_all_time_totals_per_label(client, data):
    found = families(scrape(client))
    users = found[metric_name("user_count")]
    assert users.type == "counter"
    assert samples(users, "_total") == {(): 7}
    orders = found[metric_name("orders")]
    assert samples(orders, "_total") == {(("plan", "free"),): 1, (("plan", "pro"),): 7}
    # The same numbers as the rollups hold.
    day = Rollup.objects.filter(monitor="orders", resolution="day").aggregate(Sum("sum"))
    assert sum(samples(orders, "_total").values()) == day["sum__sum"]


def test_gauges_report_their_last_reading_and_every_reading_s_count_and_sum(client, data):
    found = families(scrape(client))
    queue = found[metric_name("queue_length")]
    assert queue.type == "gauge"
    assert samples(queue) == {(): 7}
    readings = found[metric_name("queue_length") + "_readings"]
    assert readings.type == "summary"
    assert samples(readings, "_count") == {(): 3}
    assert samples(readings, "_sum") == {(): 12 + 7 + 9}


def test_durations_are_cumulative_histograms_in_seconds(client, data):
    timing = families(scrape(client))[metric_name("request_time") + "_seconds"]
    assert timing.type == "histogram"
    buckets = {float(s.labels["le"]): s.value for s in timing.samples if s.name.endswith("_bucket")}
    assert buckets[0.001] == 1  # 0.5 ms
    assert buckets[0.005] == 2  # + 3 ms
    assert buckets[0.1] == 3  # + 80 ms
    assert buckets[0.25] == 4  # + 120 ms
    assert buckets[0.5] == 5  # + 450 ms
    assert buckets[60] == 5  # 90 s is beyond the last bound
    assert buckets[float("inf")] == 6
    assert len(buckets) == len(BUCKETS_SECONDS) + 1
    assert samples(timing, "_count") == {(): 6}
    assert samples(timing, "_sum")[()] == pytest.approx((0.5 + 3 + 80 + 120 + 450 + 90_000) / 1000)


@pytest.mark.parametrize("ms", [1, 5, 10, 100, 250, 1000, 2500])
def test_a_timing_equal_to_a_bound_is_counted_under_it(client, db, ms):
    RequestTimeFactory(value=float(ms), created=NOW)
    timing = families(scrape(client))[metric_name("request_time") + "_seconds"]
    first = min(
        float(s.labels["le"]) for s in timing.samples if s.name.endswith("_bucket") and s.value == 1
    )
    assert first == pytest.approx(ms / 1000)


def test_label_sets_that_read_the_same_are_merged(client, db):
    # Rollup keys written before a dimension existed, or with None, all read plan="".
    start = int(NOW.timestamp()) // 86400 * 86400
    for key, total in [('{"plan":null}', 2), ("", 3), ('{"plan":""}', 4)]:
        Rollup.objects.create(
            monitor="orders", resolution="day", start=start, dimensions=key,
            count=1, sum=total, min=total, max=total, last=total, last_at=start * 10**6,
        )  # fmt: skip
    orders = families(scrape(client))[metric_name("orders")]
    assert samples(orders, "_total") == {(("plan", ""),): 9}


def test_label_values_keep_quotes_backslashes_and_newlines(client, db):
    monitor.get("requests").add(2, method='we"ird\\\n', status_class="2xx")
    requests = families(scrape(client))[metric_name("requests")]
    assert samples(requests, "_total") == {(("method", 'we"ird\\\n'), ("status_class", "2xx")): 2}


def test_a_monitor_without_data_is_listed_without_samples(client, db):
    found = families(scrape(client))
    assert samples(found[metric_name("user_count")], "_total") == {}
    assert "Users created" in found[metric_name("user_count")].documentation


@pytest.mark.parametrize(
    ("settings_", "auth", "status"),
    [
        ({}, None, 404),
        ({"MONITORING_METRICS_TOKEN": TOKEN}, None, 401),
        ({"MONITORING_METRICS_TOKEN": TOKEN}, "Bearer wrong", 401),
        ({"MONITORING_METRICS_TOKEN": TOKEN}, f"Basic {TOKEN}", 401),
        ({"MONITORING_METRICS_TOKEN": TOKEN}, f"Bearer {TOKEN}", 200),
        ({"MONITORING_METRICS_TOKEN": TOKEN}, f"bearer  {TOKEN} ", 200),
        ({"MONITORING_METRICS_STAFF": True}, f"Bearer {TOKEN}", 401),
    ],
)
def test_a_scraper_needs_the_token(client, db, settings_, auth, status):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    with override_settings(**settings_):
        response = client.get("/monitoring/metrics", **headers)
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="monitoring"'
        assert "monitoring_" not in response.content.decode()
    if status != 404:
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(("staff_setting", "status"), [(False, 404), (True, 200)])
def test_staff_sessions_read_it_only_when_allowed(staff_client, staff_setting, status):
    with override_settings(MONITORING_METRICS_STAFF=staff_setting):
        assert staff_client.get("/monitoring/metrics").status_code == status


def test_a_staff_session_does_not_open_it_to_others(user_client):
    with override_settings(MONITORING_METRICS_STAFF=True):
        assert user_client.get("/monitoring/metrics").status_code == 403
        assert Client().get("/monitoring/metrics").status_code == 401


def test_a_session_does_not_stand_in_for_a_wrong_token(staff_client):
    with override_settings(MONITORING_METRICS_STAFF=True, MONITORING_METRICS_TOKEN=TOKEN):
        response = staff_client.get("/monitoring/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_safe_methods(client, db, method):
    with override_settings(MONITORING_METRICS_TOKEN=TOKEN):
        response = getattr(client, method)(
            "/monitoring/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
        )
    assert response.status_code == 405


def test_head_answers_without_a_body(client, db):
    with override_settings(MONITORING_METRICS_TOKEN=TOKEN):
        response = client.head("/monitoring/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response.content == b""


def test_metric_names_are_valid_prometheus_names():
    assert metric_name("user-count") == "monitoring_user_count"
    assert metric_name("requests") == "monitoring_requests"


def check_ids(**settings_):
    with override_settings(**settings_):
        return [m.id for m in run_checks() if m.id.startswith("monitoring.E02")]


@pytest.mark.parametrize("token", ["", "   ", 12345])
def test_a_bad_token_is_a_check_error(token):
    assert check_ids(MONITORING_METRICS_TOKEN=token) == ["monitoring.E021"]


def test_the_endpoint_without_prometheus_client_is_a_check_error(monkeypatch):
    assert check_ids(MONITORING_METRICS_TOKEN=TOKEN) == []
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert check_ids(MONITORING_METRICS_TOKEN=TOKEN) == ["monitoring.E020"]
    assert check_ids(MONITORING_METRICS_STAFF=True) == ["monitoring.E020"]
    assert check_ids() == []


def test_without_prometheus_client_the_endpoint_says_what_to_install(client, db, monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    response = scrape(client)
    assert response.status_code == 501
    assert "pip install django-monitoring[prometheus]" in response.json()["error"]


def test_the_grafana_dashboard_reads_only_metrics_and_labels_we_export(client, db):
    exported = {}
    for handle in monitor:
        for name in exported_names(handle):
            exported[name] = set(handle.dimension_names())
    dashboard = json.loads((ROOT / "docs" / "grafana" / "builtins.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    for expr in exprs:
        metrics = re.findall(r"\bmonitoring_\w+", expr)
        assert metrics, expr
        for metric in metrics:
            assert metric in exported, (metric, expr)
        for grouped in re.findall(r"by \(([^)]*)\)", expr):
            names = {label.strip() for label in grouped.split(",")} - {"le"}
            assert all(names <= exported[m] for m in metrics), (names, expr)


def test_monitors_whose_names_clash_are_left_out_and_warned_about(client, db):
    from monitoring.views import IntegerCountView
    from test_app.models import MonitorLoadAverage

    monitor.unregister("user_count")
    from test_app.models import MonitorUserCount

    monitor.register("user-count", IntegerCountView.as_view(model=MonitorUserCount))
    monitor.unregister("load_average")
    from monitoring.views import ValueView

    monitor.register("user_count", ValueView.as_view(model=MonitorLoadAverage))
    MonitorUserCount.add(4, at=NOW)
    found = families(scrape(client))
    assert samples(found["monitoring_user_count"], "_total") == {(): 4}
    assert found["monitoring_user_count"].type == "counter"
    with override_settings(MONITORING_METRICS_TOKEN=TOKEN):
        warnings = [m for m in run_checks() if m.id == "monitoring.W022"]
    assert len(warnings) == 1
    assert "'user-count' and 'user_count'" in warnings[0].msg


def test_a_token_of_the_wrong_type_shuts_the_endpoint_instead_of_a_500(client, db):
    with override_settings(MONITORING_METRICS_TOKEN=12345):
        response = client.get("/monitoring/metrics", HTTP_AUTHORIZATION="Bearer 12345")
    assert response.status_code == 404


def test_a_token_with_spaces_around_it_still_matches(client, db):
    with override_settings(MONITORING_METRICS_TOKEN=f"  {TOKEN}\n"):
        response = client.get("/monitoring/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200


def test_staff_sessions_without_the_auth_middleware_get_a_401_not_a_500(client, db, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AuthenticationMiddleware" not in m]
    settings.MONITORING_METRICS_STAFF = True
    assert Client().get("/monitoring/metrics").status_code == 401


def test_the_collector_reads_a_handful_of_queries_whatever_the_number_of_monitors(
    client, data, django_assert_max_num_queries
):
    collector = RollupCollector([h for h in monitor if h.stored])
    with django_assert_max_num_queries(3):
        list(collector.collect())


# -- charts of existing tables (register_model()) ---------------------------------


@pytest.fixture
def use_tz():
    """USE_TZ for orders_table; a test parametrizes it to run both ways."""
    return True


@pytest.fixture
def orders_table(settings, freeze_now, use_tz):
    """'order_count', the demo's orders counted by plan and paid, at NOW (Berlin's 13:00)."""
    from django.utils import timezone

    from test_app.models import Order

    settings.TIME_ZONE = "Europe/Berlin"
    settings.USE_TZ = use_tz  # without it, the table holds naive times in Berlin
    freeze_now(NOW)
    monitor.register_model("order_count", Order, date_field="placed", dimensions=["plan", "paid"])
    berlin_midnight = dt.datetime(2026, 3, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    for at, plan, paid in [
        (NOW - dt.timedelta(days=40), "pro", True),
        (berlin_midnight - dt.timedelta(minutes=1), "pro", True),  # yesterday, in Berlin
        (berlin_midnight, "pro", True),  # today
        (NOW - dt.timedelta(minutes=1), "free", False),
        (NOW, "free", False),  # not before now: not yet counted
        (NOW + dt.timedelta(days=1), "free", True),
    ]:
        if not use_tz:
            at = timezone.make_naive(at, zoneinfo.ZoneInfo("Europe/Berlin"))
        Order.objects.create(placed=at, plan=plan, paid=paid, total=Decimal("2.50"))
    return Order


@pytest.mark.parametrize("use_tz", [True, False])
def test_a_chart_of_a_table_is_a_counter_of_its_rows_before_now(client, orders_table, use_tz):
    found = families(scrape(client))
    orders = found[metric_name("order_count")]
    assert orders.type == "counter"
    assert samples(orders, "_total") == {
        (("paid", "False"), ("plan", "free")): 1,
        (("paid", "True"), ("plan", "pro")): 3,
    }


def test_a_sum_over_a_table_exports_the_sum(client, orders_table):
    monitor.register_model("takings", orders_table, date_field="placed", value=Sum("total"))
    assert samples(families(scrape(client))[metric_name("takings")], "_total") == {(): 10.0}


def test_a_table_is_read_once_a_day_before_today_and_cached_as_charts_are_today(
    client, orders_table, settings, freeze_now
):
    from django.core.cache import cache

    settings.MONITORING_TABLE_CACHE_TIMEOUT = 60
    cache.clear()
    try:
        assert sum(table_totals(monitor.get("order_count")).values()) == 4
        orders_table.objects.create(placed=NOW - dt.timedelta(minutes=2), total=1)
        orders_table.objects.create(placed=NOW - dt.timedelta(days=2), total=1)
        assert sum(table_totals(monitor.get("order_count")).values()) == 4  # both cached
        freeze_now(NOW + dt.timedelta(seconds=61))  # today's part is read again,
        # with the new row of today's and the one placed at NOW, no longer in the future.
        assert sum(table_totals(monitor.get("order_count")).values()) == 6
        freeze_now(NOW + dt.timedelta(days=1))  # a new day: the rows before it too
        assert sum(table_totals(monitor.get("order_count")).values()) == 7
    finally:
        cache.clear()


def test_a_table_that_cannot_be_read_is_left_out_of_the_scrape_not_a_500(
    client, data, caplog, freeze_now
):
    from django.db import models
    from django.test.utils import isolate_apps

    from monitoring.models import IntegerCountBase

    with isolate_apps("test_app"):

        class MonitorNoTable(IntegerCountBase):
            class Meta:
                app_label = "test_app"

    freeze_now(NOW)
    # First in dashboard order: the tables read after it must still be read (on
    # PostgreSQL, a failed query aborts the test's transaction but for a savepoint).
    monitor.register_model("gone", MonitorNoTable, date_field="created", category="A")
    found = families(scrape(client))
    assert metric_name("gone") not in found
    assert samples(found[metric_name("user_count")], "_total") == {(): 7}
    assert samples(found[metric_name("revenue")], "_total") == {}  # read: no orders
    assert metric_name("revenue") in found
    assert "Monitor 'gone' is left out of this scrape" in caplog.text
    assert isinstance(MonitorNoTable._meta.get_field("created"), models.DateTimeField)


def test_a_table_whose_names_clash_with_a_monitor_is_warned_about(client, data):
    from test_app.models import Order

    monitor.register_model("user-count", Order, date_field="placed")
    found = families(scrape(client))
    # The first in dashboard order is kept: the table, whose orders table is empty.
    assert samples(found["monitoring_user_count"], "_total") == {(): 0}
    with override_settings(MONITORING_METRICS_TOKEN=TOKEN):
        warnings = [m for m in run_checks() if m.id == "monitoring.W022"]
    assert ["'user-count' and 'user_count'" in w.msg for w in warnings] == [True]
