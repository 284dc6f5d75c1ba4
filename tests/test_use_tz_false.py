"""USE_TZ = False, end to end: add(), the dashboard, cards, JSON, CSV, prune and rebuild.

Django 4.2 still defaults to it, so a project may run with it (check W001
warns). Times are then naive and mean the site's TIME_ZONE (Europe/Berlin in
test_app). Every test pins the clock with ``freeze_now``.
"""

import csv
import datetime as dt
import io
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Rollup
from monitoring.queries import get_series
from monitoring.register import monitor
from test_app.models import MonitorUserCount

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
# 14:30 in Berlin (13:30 UTC) on a Tuesday, long before any machine running this.
NOW = dt.datetime(2026, 3, 10, 14, 30, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _naive_times(settings):
    settings.USE_TZ = False


@pytest.fixture
def client_at_now(staff_client_at):
    return staff_client_at(NOW)


def naive(moment):
    """Return ``moment`` as USE_TZ = False stores it: naive, in Berlin."""
    return timezone.make_naive(moment, BERLIN)


def add_points():
    """Add 1 an hour ago, 2 two days ago and 4 forty days ago, as naive local times."""
    handle = monitor.get("user_count")
    handle.add(1, at=naive(NOW - dt.timedelta(hours=1)))
    handle.add(2, at=naive(NOW - dt.timedelta(days=2)))
    handle.add(4, at=naive(NOW - dt.timedelta(days=40)))


def get(client, name, **params):
    response = client.get(reverse("monitoring:monitor", args=[name]), params)
    assert response.status_code == 200, response.content
    return response


def test_add_stores_naive_local_times_in_buckets_of_the_site_zone(freeze_now):
    freeze_now(NOW)
    monitor.get("user_count").add(3)  # at now
    monitor.get("user_count").add(5, at=dt.datetime(2026, 3, 10, 0, 30))  # naive: Berlin
    rows = sorted(MonitorUserCount.objects.values_list("created", "value"))
    assert rows == [(dt.datetime(2026, 3, 10, 0, 30), 5), (dt.datetime(2026, 3, 10, 14, 30), 3)]
    midnight = int(dt.datetime(2026, 3, 10, tzinfo=BERLIN).timestamp())
    day = Rollup.objects.get(monitor="user_count", resolution="day")
    assert (day.start, day.count, day.sum) == (midnight, 2, 8)
    # Hour buckets are UTC hours: 00:30 in Berlin is in the one from 23:00 UTC the day before.
    hours = sorted(Rollup.objects.filter(resolution="hour").values_list("start", flat=True))
    assert hours == [
        int(dt.datetime(2026, 3, 9, 23, tzinfo=UTC).timestamp()),
        int(dt.datetime(2026, 3, 10, 13, tzinfo=UTC).timestamp()),
    ]


def test_an_aware_at_is_stored_in_the_site_zone_whatever_zone_is_active(freeze_now):
    freeze_now(NOW)
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):
        monitor.get("user_count").add(1, at=dt.datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert MonitorUserCount.objects.get().created == dt.datetime(2026, 3, 10, 13)


@pytest.mark.django_db(transaction=True)
def test_buffered_points_are_flushed_as_naive_local_times(buffered, freeze_now):
    freeze_now(NOW)
    monitor.get("user_count").add(2)  # at now
    monitor.get("user_count").add(1, at=dt.datetime(2026, 3, 10, 0, 30))
    assert MonitorUserCount.objects.count() == 0
    monitor.flush()
    rows = sorted(MonitorUserCount.objects.values_list("created", "value"))
    assert rows == [(dt.datetime(2026, 3, 10, 0, 30), 1), (dt.datetime(2026, 3, 10, 14, 30), 2)]
    day = {"start": dt.datetime(2026, 3, 10), "end": dt.datetime(2026, 3, 11)}  # naive: Berlin
    assert get_series("user_count", resolution="day", **day).values["sum"] == [3]
    assert get_series("user_count", resolution="hour", **day).values["sum"][0] == 1


def test_get_series_defaults_to_the_last_day_ending_now(freeze_now):
    freeze_now(NOW)
    add_points()
    series = get_series("user_count", resolution="hour")
    assert series.end == dt.datetime(2026, 3, 10, 14, tzinfo=UTC)  # the bucket holding now
    assert len(series.buckets) == 25
    assert series.values["sum"][-2] == 1
    assert series.summary == 1


def test_get_series_leaves_out_a_point_at_its_end(freeze_now):
    on_the_hour = freeze_now(dt.datetime(2026, 3, 10, 14, tzinfo=BERLIN))
    monitor.get("user_count").add(1)  # at now, the end of the default range: outside it
    series = get_series("user_count", resolution="hour")
    assert series.end == on_the_hour
    assert sum(series.values["sum"]) == 0
    assert series.summary == 0


def test_dashboard_page(client_at_now):
    response = client_at_now.get(reverse("monitoring:dashboard"))
    assert response.status_code == 200
    assert b"Times in Europe/Berlin" in response.content


def test_default_window_is_the_default_range_ending_now(client_at_now):
    add_points()
    data = get(client_at_now, "user_count", format="json").json()
    assert data["range"] == "7d"
    assert data["resolution"] == "3h"
    assert data["end"] == "2026-03-10T15:00:00+01:00"  # the end of the bucket holding now
    # 3-hour buckets start at Berlin's midnight, 03:00, ...; the first one is floored.
    assert data["start"] == "2026-03-03T12:00:00+01:00"
    assert data["points"][-1] == {"start": "2026-03-10T12:00:00+01:00", "value": 1}
    assert data["summary"]["value"] == 3
    assert data["summary"]["previous"] == 0


def test_thirty_days_by_day_are_berlin_days(client_at_now):
    add_points()
    data = get(client_at_now, "user_count", format="json", range="30d", resolution="day").json()
    assert data["start"] == "2026-02-08T00:00:00+01:00"
    assert len(data["points"]) == 31
    assert data["points"][-1] == {"start": "2026-03-10T00:00:00+01:00", "value": 1}
    assert data["points"][-3] == {"start": "2026-03-08T00:00:00+01:00", "value": 2}


def test_card_and_csv(client_at_now):
    add_points()
    card = get(client_at_now, "user_count", format="card").content.decode()
    assert 'class="monitoring-headline-value">3<' in card
    response = get(client_at_now, "user_count", format="csv", range="30d", resolution="day")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["start", "sum"]
    assert rows[-1] == ["2026-03-10T00:00:00+01:00", "1"]
    assert len(rows) == 32
    assert "user_count_20260208-0000_20260311-0000.csv" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("params", "total"),
    [
        ({"range": "24h"}, 1),
        ({"range": "7d"}, 3),
        ({"start": "2026-03-08"}, 3),  # naive: Berlin, ending now
        ({"start": "2026-03-08T00:00:00+01:00"}, 3),
        ({"start": "2026-03-09", "end": "2026-03-10T14:00"}, 1),
        ({"range": "24h", "end": "2026-03-08T14:00:00Z"}, 2),
    ],
)
def test_ranges_and_start_end(client_at_now, params, total):
    add_points()
    data = get(client_at_now, "user_count", format="json", **params).json()
    assert sum(point["value"] for point in data["points"]) == total
    assert data["summary"]["value"] == total


def test_prune_command(freeze_now):
    freeze_now(NOW)
    add_points()
    out = StringIO()
    call_command("monitoring_prune", stdout=out)
    assert "test_app.MonitorUserCount (raw): deleted 1 rows" in out.getvalue()
    assert sorted(MonitorUserCount.objects.values_list("value", flat=True)) == [1, 2]
    assert Rollup.objects.filter(resolution="day").count() == 3  # kept forever


@pytest.mark.parametrize("since", [None, "2026-03-08"])
def test_rebuild_command(freeze_now, since):
    freeze_now(NOW)
    add_points()
    # Raw rows of the last 30 days only, as a prune leaves them.
    call_command("monitoring_prune", stdout=StringIO())
    before = sorted(Rollup.objects.values_list("resolution", "start", "count", "sum"))
    Rollup.objects.filter(monitor="user_count", start__gte=NOW.timestamp() - 3 * 86400).delete()
    args = ["--since", since] if since else []
    call_command("monitoring_rebuild", "user_count", *args, stdout=StringIO())
    assert sorted(Rollup.objects.values_list("resolution", "start", "count", "sum")) == before


def test_export_and_import_round_trip(client_at_now, tmp_path):
    add_points()
    params = {"range": "7d", "resolution": "day"}
    before = get(client_at_now, "user_count", format="csv", **params).content
    out = StringIO()
    call_command(
        "monitoring_export", "user_count", "--format", "csv", "--range", "7d",
        "--resolution", "day", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert out.getvalue().encode() == before
    raw = StringIO()
    call_command(
        "monitoring_export", "user_count", "--format", "raw", "--range", "7d",
        stdout=raw, stderr=StringIO(),
    )  # fmt: skip
    # Stored naive in Berlin, written with Berlin's offset.
    assert raw.getvalue().splitlines() == [
        "at,value",
        "2026-03-08T14:30:00+01:00,2",
        "2026-03-10T13:30:00+01:00,1",
    ]
    path = tmp_path / "user_count.csv"
    path.write_text(raw.getvalue())
    for _ in range(2):
        call_command(
            "monitoring_import", "user_count", str(path), "--replace-range",
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    assert sorted(MonitorUserCount.objects.values_list("created", "value")) == [
        (naive(NOW - dt.timedelta(days=40)), 4),
        (naive(NOW - dt.timedelta(days=2)), 2),
        (naive(NOW - dt.timedelta(hours=1)), 1),
    ]
    assert get(client_at_now, "user_count", format="csv", **params).content == before


def test_alert_rules_annotations_and_health_with_naive_times(client_at_now, settings):
    from django.core import mail

    import monitoring
    from monitoring.alerts import Rule, evaluate
    from monitoring.models import AlertState, AlertTransition

    settings.MONITORING_ALERT_EMAILS = ["ops@example.com"]
    monitor._alerts = {}
    monitor.alert("busy", Rule("queue_length", stat="max", above=10, for_="2m", critical=True))
    monitor.get("queue_length").add(50, at=naive(NOW - dt.timedelta(minutes=1)))
    assert [t.state for t in evaluate()] == ["pending"]
    assert AlertState.objects.get().since == naive(NOW)
    assert [t.state for t in evaluate(NOW + dt.timedelta(minutes=3))] == ["firing"]
    assert AlertTransition.objects.filter(emailed__isnull=False).count() == 1
    assert "Since:     2026-03-10 14:33:00 CET" in mail.outbox[0].body
    health = client_at_now.get("/monitoring/health").json()
    assert health["failing"] == ["alerts"]
    assert health["firing"][0]["since"] == "2026-03-10T14:33:00"
    monitoring.annotate("Deployed", at=naive(NOW - dt.timedelta(hours=2)))
    data = client_at_now.get("/monitoring/queue_length/?format=json&range=24h").json()
    assert [(a["text"], a["at"]) for a in data["annotations"]] == [
        ("Deployed", "2026-03-10T12:30:00+01:00")
    ]
