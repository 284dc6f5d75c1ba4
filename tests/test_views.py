import csv
import datetime as dt
import io
import json
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from monitoring.register import monitor
from monitoring.views import RANGES, IntegerCountView, MonitorView
from test_app.models import MonitorLoadAverage
from tests.factories import (
    OrderCountFactory,
    QueueLengthFactory,
    RequestTimeFactory,
    StaffFactory,
    UserCountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A fixed day in the past, so tests don't depend on the clock: 10 March 2026, Berlin.
DAY = dt.datetime(2026, 3, 10, tzinfo=BERLIN)
NEXT_DAY = DAY + dt.timedelta(days=1)
DAY_PARAMS = {"start": DAY.isoformat(), "end": NEXT_DAY.isoformat(), "resolution": "hour"}


def url(name):
    return reverse("monitoring:monitor", args=[name])


def get_json(client, name, **params):
    response = client.get(url(name), {"format": "json", **params})
    assert response.status_code == 200, response.content
    return response.json()


def get_400(client, name, **params):
    response = client.get(url(name), params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


# -- access -----------------------------------------------------------------

DATA_PATHS = [
    "/monitoring/",
    "/monitoring/user_count/",
    "/monitoring/user_count/?format=json",
    "/monitoring/user_count/?format=csv",
]


@pytest.mark.parametrize("path", [*DATA_PATHS, "/monitoring/nope/"])
def test_anonymous_is_redirected_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/monitoring/")


@pytest.mark.parametrize("path", DATA_PATHS)
def test_non_staff_gets_403(user_client, path):
    assert user_client.get(path).status_code == 403


@pytest.mark.parametrize("path", DATA_PATHS)
def test_inactive_staff_is_not_let_in(client, path):
    # ModelBackend drops an inactive user from the session, so they are sent to log in.
    client.force_login(StaffFactory(is_active=False))
    assert client.get(path).status_code == 302


@pytest.mark.parametrize("path", DATA_PATHS)
def test_staff_gets_every_answer_uncached(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


def test_bad_request_answers_are_uncached_too(staff_client):
    response = staff_client.get(url("user_count"), {"range": "2d"})
    assert response.status_code == 400
    assert "no-cache" in response["Cache-Control"]


def test_inactive_staff_is_refused_by_backends_that_keep_them(rf):
    from monitoring.views import DashboardView

    request = rf.get("/monitoring/")
    request.user = StaffFactory(is_active=False)
    with pytest.raises(PermissionDenied):
        DashboardView.as_view()(request)


def test_the_view_itself_refuses_non_staff_when_routed_elsewhere(rf):
    view = IntegerCountView.as_view(model=monitor.get("user_count").model)
    request = rf.get("/elsewhere/")
    request.user = UserFactory()
    with pytest.raises(PermissionDenied):
        view(request)


@override_settings(MONITORING_PERMISSION="test_app.view_monitorusercount")
@pytest.mark.parametrize("path", DATA_PATHS)
def test_a_permission_setting_replaces_is_staff(client, path):
    staff = StaffFactory()
    client.force_login(staff)
    assert client.get(path).status_code == 403

    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_monitorusercount"))
    client.force_login(user)
    assert client.get(path).status_code == 200

    client.force_login(StaffFactory(is_superuser=True))
    assert client.get(path).status_code == 200


@override_settings(MONITORING_PERMISSION="test_app.view_monitorusercount")
def test_a_permission_does_not_let_inactive_users_in(rf):
    user = UserFactory(is_active=False, is_superuser=True)
    request = rf.get("/monitoring/")
    request.user = user
    from monitoring.views import has_access

    assert has_access(request) is False


# -- the dashboard page ---------------------------------------------------------


def test_staff_sees_the_dashboard_with_every_monitor_grouped(staff_client):
    response = staff_client.get("/monitoring/")
    assert response.status_code == 200
    content = response.content.decode()
    for handle in monitor:
        assert handle.title in content
        assert f'data-url="/monitoring/{handle.name}/"' in content
        assert f'data-kind="{handle.kind}"' in content
    assert content.index("<h2>Shop</h2>") < content.index("<h2>System</h2>")
    assert content.index("<h2>System</h2>") < content.index("<h2>Users</h2>")
    assert content.index("Queue length") < content.index("Load average")
    assert content.index("New users") < content.index("Logins", content.index("<h2>Users</h2>"))
    assert "Users created, counted by a post_save receiver." in content
    assert '<span class="monitoring-unit">jobs</span>' in content


def test_dashboard_has_no_inline_script_or_style(staff_client):
    content = staff_client.get("/monitoring/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", content) == []
    assert "<style" not in content
    assert "style=" not in content
    assert re.findall(r"\son[a-z]+=", content) == []
    for script in re.findall(r'<script src="([^"]+)"', content):
        assert script.startswith("/static/monitoring/")
    for asset in [
        "/static/monitoring/vendor/jquery.min.js",
        "/static/monitoring/vendor/uPlot.iife.min.js",
        "/static/monitoring/vendor/uPlot.min.css",
        "/static/monitoring/css/monitoring.css",
    ]:
        assert asset in content


def test_dashboard_range_and_refresh_come_from_the_url(staff_client):
    content = staff_client.get("/monitoring/", {"range": "30d", "refresh": "60"}).content.decode()
    assert 'data-range="30d"' in content
    assert 'data-refresh="60"' in content
    assert '<option value="30d" selected>' in content
    assert '<option value="60" selected>' in content


@pytest.mark.parametrize(
    "query", [{}, {"range": "2d", "refresh": "7"}, {"refresh": "²"}, {"refresh": "9" * 5000}]
)
def test_dashboard_falls_back_to_the_default_range(staff_client, query):
    content = staff_client.get("/monitoring/", query).content.decode()
    assert 'data-range="7d"' in content
    assert 'data-refresh="0"' in content


@override_settings(MONITORING_DEFAULT_RANGE="24h")
def test_dashboard_default_range_follows_the_setting(staff_client):
    assert 'data-range="24h"' in staff_client.get("/monitoring/").content.decode()


def test_dashboard_with_no_monitors_explains_how_to_add_one(staff_client):
    monitor._registry = {}
    response = staff_client.get("/monitoring/")
    assert "No monitors are registered yet" in response.content.decode()


def test_dashboard_extends_the_configured_base_template(staff_client, settings, tmp_path):
    # Both through the settings fixture: mixing it with @override_settings leaks one of them.
    settings.MONITORING_BASE_TEMPLATE = "site_base.html"
    (tmp_path / "site_base.html").write_text(
        "<html><head>{% block monitoring_head %}{% endblock %}</head>"
        "<body><nav>My site</nav>{% block main %}{% endblock %}"
        "<footer>{% block monitoring_scripts %}{% endblock %}</footer></body></html>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
    ]
    content = staff_client.get("/monitoring/").content.decode()
    assert "<nav>My site</nav>" in content
    assert "New users" in content
    head = content.split("</head>")[0]
    assert "monitoring/css/monitoring.css" in head
    footer = content.split("<footer>")[1]
    assert "monitoring/js/cards.js" in footer


# -- JSON -----------------------------------------------------------------------


def test_unknown_monitor_is_404_with_a_suggestion(staff_client):
    response = staff_client.get("/monitoring/user_cont/")
    assert response.status_code == 404


def test_json_without_range_answers_daily_sums_for_30_days(staff_client_at):
    # A fixed now: on a running clock, 48 hours before 00:30 on Monday 30 March
    # 2026 (after the change to summer time) is Friday, three calendar days back.
    now = DAY + dt.timedelta(hours=14, minutes=30)
    staff_client = staff_client_at(now)
    # Creating the staff user counted one new user; start from none.
    monitor.get("user_count").model.objects.all().delete()
    UserCountFactory.create_batch(3, created=now)
    UserCountFactory(created=now - dt.timedelta(days=2), value=5)
    UserCountFactory(created=now - dt.timedelta(days=40), value=100)  # out of range
    data = get_json(staff_client, "user_count")
    assert data["name"] == "user_count"
    assert data["title"] == "New users"
    assert data["kind"] == "count"
    assert data["category"] == "Users"
    assert data["stat"] == "sum"
    assert data["stats"] == ["sum"]
    assert data["range"] is None
    assert data["resolution"] == "day"
    assert data["timezone"] == "Europe/Berlin"
    assert data["split_by"] is None
    assert data["groups"] == []
    points = data["points"]
    assert len(points) == 30
    assert points[-1] == {"start": DAY.isoformat(), "value": 3}
    assert points[-3]["value"] == 5
    assert sum(p["value"] for p in points) == 8
    assert data["values"]["sum"] == [p["value"] for p in points]
    assert data["timestamps"][-1] == int(DAY.timestamp())
    assert data["start"] == points[0]["start"]
    assert data["summary"]["stat"] == "total"
    assert data["summary"]["value"] == 8


def test_count_json_against_known_data(staff_client):
    UserCountFactory.create_batch(3, created=DAY + dt.timedelta(hours=9, minutes=5))
    UserCountFactory(created=DAY + dt.timedelta(hours=23, minutes=59), value=4)
    UserCountFactory(created=DAY - dt.timedelta(hours=3))  # the previous period
    UserCountFactory(created=NEXT_DAY)  # just after the end
    data = get_json(staff_client, "user_count", **DAY_PARAMS)
    assert data["resolution"] == "hour"
    assert data["start"] == DAY.isoformat()
    assert data["end"] == NEXT_DAY.isoformat()
    assert len(data["points"]) == 24
    values = data["values"]["sum"]
    assert values[9] == 3
    assert values[23] == 4
    assert sum(values) == 7
    assert data["points"][9] == {"start": (DAY + dt.timedelta(hours=9)).isoformat(), "value": 3}
    assert data["summary"] == {"stat": "total", "value": 7, "previous": 1, "change": 6.0}


def test_value_json_has_avg_min_max_last(staff_client):
    QueueLengthFactory(value=10, created=DAY + dt.timedelta(hours=2, minutes=1))
    QueueLengthFactory(value=30, created=DAY + dt.timedelta(hours=2, minutes=50))
    QueueLengthFactory(value=20, created=DAY + dt.timedelta(hours=2, minutes=20))
    QueueLengthFactory(value=40, created=DAY - dt.timedelta(hours=1))
    data = get_json(staff_client, "queue_length", **DAY_PARAMS)
    assert data["stat"] == "avg"
    assert data["stats"] == ["avg", "min", "max", "last"]
    assert data["values"]["avg"][2] == 20
    assert data["values"]["min"][2] == 10
    assert data["values"]["max"][2] == 30
    assert data["values"]["last"][2] == 30
    assert data["values"]["avg"][3] is None
    assert data["unit"] == "jobs"
    assert data["summary"]["stat"] == "last"
    assert data["summary"]["value"] == 30
    assert data["summary"]["previous"] == 40
    assert data["summary"]["change"] == pytest.approx(-0.25)


def test_duration_json_has_percentiles(staff_client):
    for ms in [100.0, 200.0, 300.0, 400.0]:
        RequestTimeFactory(value=ms, created=DAY + dt.timedelta(hours=5, minutes=ms / 10))
    data = get_json(staff_client, "request_time", **DAY_PARAMS)
    assert data["stat"] == "count"
    assert data["stats"] == ["count", "p50", "p95", "p99", "max"]
    assert data["values"]["count"][5] == 4
    assert data["values"]["count"][4] == 0
    # Percentiles may come from histogram bins: near enough is right.
    assert data["values"]["p50"][5] == pytest.approx(200, rel=0.1)
    assert data["values"]["p99"][5] == pytest.approx(400, rel=0.1)
    assert data["values"]["p95"][4] is None
    assert data["summary"]["stat"] == "p95"
    assert data["summary"]["value"] == pytest.approx(400, rel=0.1)
    assert data["summary"]["previous"] is None
    assert data["summary"]["change"] is None


@pytest.mark.parametrize(
    ("range_name", "resolution"),
    [
        ("1h", "minute"),
        ("6h", "minute"),
        ("24h", "minute"),
        ("7d", "hour"),
        ("30d", "hour"),
        ("90d", "day"),
        ("365d", "day"),
    ],
)
def test_every_range_ends_now_with_a_fitting_resolution(staff_client, range_name, resolution):
    before = timezone.now()
    data = get_json(staff_client, "user_count", range=range_name)
    after = timezone.now()
    assert data["range"] == range_name
    assert data["resolution"] == resolution
    assert len(data["points"]) <= 1500
    start = dt.datetime.fromisoformat(data["start"])
    end = dt.datetime.fromisoformat(data["end"])
    span = RANGES[range_name][0]
    # Bucket edges are floored and ceiled around [now - range, now).
    assert start <= before - span
    assert end >= after - dt.timedelta(seconds=1)
    assert end - start <= span + dt.timedelta(days=2)


def test_range_counts_recent_data(staff_client):
    monitor.get("user_count").model.objects.all().delete()
    UserCountFactory(created=timezone.now() - dt.timedelta(minutes=30), value=2)
    UserCountFactory(created=timezone.now() - dt.timedelta(hours=3), value=5)
    assert get_json(staff_client, "user_count", range="1h")["summary"]["value"] == 2
    assert get_json(staff_client, "user_count", range="6h")["summary"]["value"] == 7


def test_range_with_an_end_ends_there(staff_client):
    UserCountFactory(created=DAY + dt.timedelta(hours=20))
    data = get_json(staff_client, "user_count", range="24h", end=NEXT_DAY.isoformat())
    assert data["end"] == NEXT_DAY.isoformat()
    assert data["summary"]["value"] == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-03-10", "2026-03-11"),
        ("2026-03-10T00:00:00", "2026-03-11T00:00:00"),
        ("2026-03-09T23:00:00Z", "2026-03-10T23:00:00Z"),
        ("2026-03-10T00:00:00+01:00", "2026-03-11T00:00:00+01:00"),
    ],
)
def test_start_and_end_take_iso_8601(staff_client, start, end):
    UserCountFactory(created=DAY + dt.timedelta(hours=1))
    data = get_json(staff_client, "user_count", start=start, end=end, resolution="hour")
    assert data["start"] == DAY.isoformat()
    assert len(data["points"]) == 24
    assert data["values"]["sum"][1] == 1


def test_start_alone_runs_until_now(staff_client):
    start = timezone.now() - dt.timedelta(hours=2)
    data = get_json(staff_client, "user_count", start=start.isoformat())
    assert data["resolution"] == "minute"
    assert 120 <= len(data["points"]) <= 122


@pytest.mark.parametrize(("resolution", "buckets"), [("minute", 1440), ("hour", 24), ("day", 1)])
def test_resolution_can_be_chosen(staff_client, resolution, buckets):
    data = get_json(
        staff_client, "user_count", start=DAY.isoformat(), end=NEXT_DAY.isoformat(),
        resolution=resolution,
    )  # fmt: skip
    assert data["resolution"] == resolution
    assert len(data["points"]) == buckets


def test_auto_resolution(staff_client_at):
    now = NEXT_DAY + dt.timedelta(days=30)
    staff_client = staff_client_at(now)
    recent = now - dt.timedelta(days=1)
    params = {"start": recent.isoformat(), "end": now.isoformat(), "resolution": "auto"}
    assert get_json(staff_client, "user_count", **params)["resolution"] == "minute"
    # Minute rollups of a day a month ago are pruned (MONITORING_RETENTION): hours it is.
    params = {"start": DAY.isoformat(), "end": NEXT_DAY.isoformat(), "resolution": "auto"}
    assert get_json(staff_client, "user_count", **params)["resolution"] == "hour"


def test_a_dimensioned_monitor_is_split_by_its_dimension(staff_client):
    OrderCountFactory(plan="pro", value=2, created=DAY + dt.timedelta(hours=1))
    OrderCountFactory(plan="free", created=DAY + dt.timedelta(hours=1))
    OrderCountFactory(plan="team", value=5, created=DAY + dt.timedelta(hours=2))
    data = get_json(staff_client, "orders", **DAY_PARAMS)
    assert data["split_by"] == "plan"
    assert data["values"]["sum"][1] == 3
    assert [(g["label"], g["total"]) for g in data["groups"]] == [
        ("team", 5),
        ("pro", 2),
        ("free", 1),
    ]
    assert data["groups"][1]["values"]["sum"][1] == 2


def test_top_n_plus_other(staff_client):
    OrderCountFactory(plan="pro", value=2, created=DAY)
    OrderCountFactory(plan="free", value=1, created=DAY)
    OrderCountFactory(plan="team", value=5, created=DAY)
    data = get_json(staff_client, "orders", top="1", **DAY_PARAMS)
    assert [(g["label"], g["total"]) for g in data["groups"]] == [("team", 5), ("other", 3)]


def test_split_none_answers_only_the_total(staff_client):
    OrderCountFactory(plan="pro", value=2, created=DAY)
    data = get_json(staff_client, "orders", split="none", **DAY_PARAMS)
    assert data["split_by"] is None
    assert data["groups"] == []
    assert data["summary"]["value"] == 2


def test_dimension_filters(staff_client):
    OrderCountFactory(plan="pro", value=2, created=DAY)
    OrderCountFactory(plan="free", value=1, created=DAY)
    OrderCountFactory(plan="team", value=5, created=DAY)
    data = get_json(staff_client, "orders", plan="pro", **DAY_PARAMS)
    assert data["summary"]["value"] == 2
    assert data["filters"] == {"plan": ["pro"]}
    response = staff_client.get(
        url("orders"), {"format": "json", "plan": ["pro", "team"], **DAY_PARAMS}
    )
    assert response.json()["summary"]["value"] == 7


def test_a_monitor_registered_after_the_urlconf_loaded_is_reachable(staff_client_at):
    # At 23:59:59, where a running clock could pass midnight between add() and the request.
    staff_client = staff_client_at(NEXT_DAY - dt.timedelta(seconds=1))
    monitor.unregister("load_average")
    monitor.register("late_load", MonitorView.as_view(model=MonitorLoadAverage))
    MonitorLoadAverage.add(1.5)
    response = staff_client.get("/monitoring/late_load/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["points"][-1]["value"] == 1.5


def test_post_is_not_allowed(staff_client):
    assert staff_client.post(url("user_count")).status_code == 405


@override_settings(MONITORING_DEFAULT_DAYS=7)
def test_number_of_days_follows_the_setting(staff_client):
    assert len(get_json(staff_client, "user_count")["points"]) == 7


def test_signals_feed_the_user_monitors(client):
    user = UserFactory()
    client.force_login(user)
    assert monitor.get("user_count").model.objects.count() == 1
    assert monitor.get("login_count").model.objects.count() == 1


# -- 400s -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "parameter", "allowed"),
    [
        ({"range": "2d"}, "range", ["1h", "6h", "24h", "7d", "30d", "90d", "365d"]),
        ({"range": ""}, None, None),
        ({"resolution": "week"}, "resolution", ["auto", "minute", "hour", "day"]),
        ({"format": "xml"}, "format", ["html", "json", "csv"]),
        ({"start": "yesterday"}, "start", None),
        ({"start": "2026-03-10", "end": "2026-13-01"}, "end", None),
        ({"end": "2026-03-10"}, "end", None),
        ({"range": "24h", "start": "2026-03-10"}, "start", None),
        ({"start": "2026-03-11", "end": "2026-03-10"}, "end", None),
        ({"start": "2026-03-10", "end": "2026-03-10"}, "end", None),
        ({"range": "365d", "resolution": "minute"}, "resolution", ["auto", "hour", "day"]),
        # 15,000 minutes from a start off the minute edge is 15,001 buckets.
        (
            {"start": "2026-01-01T00:00:30", "end": "2026-01-11T10:00:30", "resolution": "minute"},
            "resolution",
            ["auto", "hour", "day"],
        ),
        ({"split": "colour"}, "split", ["none", "plan"]),
        ({"top": "0"}, "top", None),
        ({"top": "21"}, "top", None),
        ({"top": "two"}, "top", None),
        ({"top": "²"}, "top", None),
        ({"top": "9" * 5000}, "top", None),
        ({"plan": "gold"}, "plan", ["free", "pro", "team"]),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "start", None),
        ({"start": "2026-01-01", "end": "9999-12-31"}, "end", None),
        ({"start": "1901-01-01"}, "start", None),
        (
            {"rnage": "7d"},
            "rnage",
            ["format", "range", "start", "end", "resolution", "split", "top", "plan"],
        ),
    ],
)
def test_bad_parameters_get_a_400_naming_the_parameter(staff_client, params, parameter, allowed):
    response = staff_client.get(url("orders"), params)
    if parameter is None:  # an empty range is no range
        assert response.status_code == 200
        return
    body = get_400(staff_client, "orders", **params)
    assert body["parameter"] == parameter
    assert body["error"]
    assert body["allowed"]
    if allowed is not None:
        assert body["allowed"] == allowed


def test_a_dimension_on_a_monitor_without_it_is_unknown(staff_client):
    body = get_400(staff_client, "user_count", plan="pro")
    assert body["parameter"] == "plan"
    assert "plan" not in body["allowed"]


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_every_format_answers_bad_parameters_with_json(staff_client, fmt):
    body = get_400(staff_client, "user_count", format=fmt, range="forever")
    assert body["parameter"] == "range"


# -- CSV --------------------------------------------------------------------------


def test_csv_is_a_download_of_the_same_data(staff_client):
    UserCountFactory.create_batch(3, created=DAY + dt.timedelta(hours=9))
    response = staff_client.get(url("user_count"), {"format": "csv", **DAY_PARAMS})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="user_count_20260310-0000_20260311-0000.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["start", "sum"]
    assert len(rows) == 25
    assert rows[10] == [(DAY + dt.timedelta(hours=9)).isoformat(), "3"]
    assert rows[1] == [DAY.isoformat(), "0"]


def test_csv_of_a_gauge_leaves_empty_buckets_blank(staff_client):
    QueueLengthFactory(value=10, created=DAY + dt.timedelta(hours=1))
    response = staff_client.get(url("queue_length"), {"format": "csv", **DAY_PARAMS})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["start", "avg", "min", "max", "last"]
    assert rows[1][1:] == ["", "", "", ""]
    assert [float(cell) for cell in rows[2][1:]] == [10, 10, 10, 10]


def test_csv_has_a_column_per_group(staff_client):
    OrderCountFactory(plan="pro", value=2, created=DAY)
    OrderCountFactory(plan="free", created=DAY)
    response = staff_client.get(url("orders"), {"format": "csv", **DAY_PARAMS})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["start", "sum", "plan=pro sum", "plan=free sum"]
    assert rows[1] == [DAY.isoformat(), "3", "2", "1"]


# -- the card ---------------------------------------------------------------------


def card(client, name, **params):
    response = client.get(url(name), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def series_of(html):
    import html as html_module

    raw = re.search(r'data-series="([^"]*)"', html).group(1)
    return json.loads(html_module.unescape(raw))


def test_card_is_a_fragment_with_headline_chart_data_and_summary(staff_client):
    UserCountFactory.create_batch(3, created=DAY + dt.timedelta(hours=9))
    UserCountFactory(created=DAY - dt.timedelta(hours=9))
    html = card(staff_client, "user_count", **DAY_PARAMS)
    assert "<html" not in html
    assert 'class="monitoring-card-content" data-state="ready"' in html
    assert '<span class="monitoring-headline-value">3</span>' in html
    assert '<span class="monitoring-headline-label">total</span>' in html
    assert "+200% vs previous period" in html
    assert "monitoring-change-up" in html
    assert series_of(html) == get_json(staff_client, "user_count", **DAY_PARAMS)
    assert "New users: 3 in total over 2026-03-10 00:00 to 2026-03-11 00:00" in html
    assert "up 200% on the period before" in html
    assert "Highest hour: 3, starting 2026-03-10 09:00." in html
    assert 'href="/monitoring/user_count/?' in html
    assert "format=csv" in html
    assert 'aria-controls="monitoring-table-user_count"' in html


def test_card_has_an_empty_state(staff_client):
    html = card(staff_client, "user_count", **DAY_PARAMS)
    assert 'data-state="empty"' in html
    assert "No data yet — call <code>monitor.get('user_count').add(1)</code>" in html
    assert "data-series" not in html


def test_card_of_a_duration_suggests_timing(staff_client):
    html = card(staff_client, "request_time", **DAY_PARAMS)
    assert "monitor.get('request_time').time()" in html


def test_card_headline_of_a_gauge_is_the_latest_reading(staff_client):
    QueueLengthFactory(value=12, created=DAY + dt.timedelta(hours=1))
    QueueLengthFactory(value=7, created=DAY + dt.timedelta(hours=3))
    html = card(staff_client, "queue_length", **DAY_PARAMS)
    assert '<span class="monitoring-headline-value">7</span>' in html
    assert '<span class="monitoring-headline-unit">jobs</span>' in html
    assert "latest" in html


def test_card_uses_the_range_in_its_summary(staff_client):
    UserCountFactory(created=timezone.now() - dt.timedelta(minutes=5))
    html = card(staff_client, "user_count", range="7d")
    assert "over the last 7 days" in html


def test_a_project_can_override_the_card_of_a_kind(staff_client, settings, tmp_path):
    (tmp_path / "monitoring" / "cards").mkdir(parents=True)
    (tmp_path / "monitoring" / "cards" / "count.html").write_text(
        '{% extends "monitoring/cards/base.html" %}'
        "{% block summary %}<p>Custom {{ monitor.name }}: {{ headline }}</p>{% endblock %}"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    UserCountFactory(created=DAY)
    html = card(staff_client, "user_count", **DAY_PARAMS)
    assert "<p>Custom user_count: 1</p>" in html
    assert "monitoring-headline-value" in html


def test_a_view_can_name_its_own_card_template(staff_client, settings, tmp_path):
    (tmp_path / "my_card.html").write_text("<div class='monitoring-card-content'>mine</div>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    model = monitor.get("user_count").model
    monitor.unregister("user_count")
    view = IntegerCountView.as_view(model=model, template_name="my_card.html")
    monitor.register("user_count", view)
    assert "mine" in card(staff_client, "user_count")


def test_card_says_when_nothing_changed(staff_client):
    UserCountFactory(created=DAY + dt.timedelta(hours=1), value=2)
    UserCountFactory(created=DAY - dt.timedelta(hours=1), value=2)
    html = card(staff_client, "user_count", **DAY_PARAMS)
    assert "same as previous period" in html
    assert "monitoring-change-flat" in html
    assert "2 in total over 2026-03-10 00:00 to 2026-03-11 00:00, the same as the period" in html


# Any query string at all gets an answer, never a 500.

PARAMETER_NAMES = st.sampled_from(
    ["format", "range", "start", "end", "resolution", "split", "top", "plan", "x", ""]
)
PARAMETER_VALUES = st.one_of(
    st.sampled_from(
        ["json", "csv", "html", "7d", "1h", "365d", "auto", "minute", "day", "none", "plan",
         "pro", "free", "0", "5", "20", "2026-03-10", "2026-03-10T05:00:00Z", "0001-01-01",
         "9999-12-31T23:59:59", "1900-01-01", "-1", "", "²", "٣", "9" * 5000, "\x00"]
    ),
    st.text(max_size=12),
)  # fmt: skip


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(["orders", "user_count", "queue_length", "request_time"]),
    params=st.lists(st.tuples(PARAMETER_NAMES, PARAMETER_VALUES), max_size=5),
)
def test_no_query_string_gets_a_500(staff_client, name, params):
    response = staff_client.get(url(name), params)
    assert response.status_code in (200, 400), (params, response.content[:300])
    if response.status_code == 400:
        body = response.json()
        assert body["parameter"] is not None
        assert body["allowed"]
