"""/monitoring/metrics: the Prometheus exposition, read back with prometheus_client's parser."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

import pytest
from django.core.checks import run_checks
from django.db.models import Sum
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import BUCKETS_MS, metric_name
from monitoring.models import Rollup
from monitoring.register import monitor
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


def test_gauges_report_their_last_reading(client, data):
    queue = families(scrape(client))[metric_name("queue_length")]
    assert queue.type == "gauge"
    assert samples(queue) == {(): 7}


def test_durations_are_cumulative_histograms(client, data):
    timing = families(scrape(client))[metric_name("request_time")]
    assert timing.type == "histogram"
    buckets = {float(s.labels["le"]): s.value for s in timing.samples if s.name.endswith("_bucket")}
    assert buckets[1] == 1  # 0.5 ms
    assert buckets[5] == 2  # + 3 ms
    assert buckets[100] == 3  # + 80 ms
    assert buckets[250] == 4  # + 120 ms
    assert buckets[500] == 5  # + 450 ms
    assert buckets[60_000] == 5  # 90 s is beyond the last bound
    assert buckets[float("inf")] == 6
    assert len(buckets) == len(BUCKETS_MS) + 1
    assert samples(timing, "_count") == {(): 6}
    assert samples(timing, "_sum")[()] == pytest.approx(0.5 + 3 + 80 + 120 + 450 + 90_000)


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
    found = families(scrape(client))
    labels = {name: set() for name in found}
    for handle in monitor:
        labels[metric_name(handle.name)] = set(handle.model.dimension_names())
    dashboard = json.loads((ROOT / "docs" / "grafana" / "builtins.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    for expr in exprs:
        for metric in re.findall(r"\b(monitoring_\w+?)(?:_total|_bucket|_count|_sum)?\b", expr):
            assert metric in found, (metric, expr)
        for grouped in re.findall(r"by \(([^)]*)\)", expr):
            names = {label.strip() for label in grouped.split(",")} - {"le"}
            metric = re.search(r"monitoring_\w+?(?=_total|_bucket|\[|\))", expr).group(0)
            assert names <= labels[metric], (names, expr)
