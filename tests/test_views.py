import csv
import datetime as dt
import io
import json
import re
import sys
import zoneinfo

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.test.utils import isolate_apps
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from monitoring.buckets import BUCKET_SIZES
from monitoring.models import IntegerCountBase
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


BROWSER_PATHS = ["/monitoring/", "/monitoring/user_count/"]
CLIENT_PATHS = ["/monitoring/user_count/?format=json", "/monitoring/user_count/?format=csv"]


@pytest.mark.parametrize("path", [*BROWSER_PATHS, "/monitoring/nope/"])
def test_anonymous_browsers_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/monitoring/")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/monitoring/user_count/?format=json", {}),
        ("/monitoring/user_count/?format=csv", {}),
        ("/monitoring/user_count/", {"Accept": "application/json"}),
        ("/monitoring/user_count/", {"X-Requested-With": "XMLHttpRequest"}),
        ("/monitoring/nope/?format=json", {}),
    ],
)
def test_anonymous_data_clients_get_a_json_401(client, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Log in to see monitoring data."}


@pytest.mark.parametrize("path", BROWSER_PATHS)
def test_a_denied_browser_user_gets_a_page_that_says_why(user_client, path):
    response = user_client.get(path)
    assert response.status_code == 403
    html = response.content.decode()
    assert "<html" in html
    assert "Monitoring is for staff users only" in html
    assert 'href="/admin/login/?next=' in html


@override_settings(MONITORING_PERMISSION="test_app.view_monitorusercount")
def test_the_denied_page_names_the_missing_permission(user_client):
    response = user_client.get("/monitoring/")
    assert response.status_code == 403
    assert "test_app.view_monitorusercount" in response.content.decode()


@pytest.mark.parametrize("path", CLIENT_PATHS)
def test_a_denied_data_client_gets_a_json_403(user_client, path):
    response = user_client.get(path)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "staff" in response.json()["error"]


def test_an_unknown_monitor_is_a_json_404_for_data_clients(staff_client):
    response = staff_client.get("/monitoring/user_cont/", {"format": "json"})
    assert response.status_code == 404
    assert response.json() == {"error": "No monitor named 'user_cont'. Did you mean 'user_count'?"}


@pytest.mark.parametrize("path", DATA_PATHS)
def test_inactive_staff_is_not_let_in(client, path):
    # ModelBackend drops an inactive user from the session, so they are sent to log in.
    client.force_login(StaffFactory(is_active=False))
    assert client.get(path).status_code == (302 if path in BROWSER_PATHS else 401)


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
    response = DashboardView.as_view()(request)
    assert response.status_code == 403
    assert "Your account is inactive." in response.content.decode()


def test_the_view_itself_refuses_non_staff_when_routed_elsewhere(rf):
    view = IntegerCountView.as_view(model=monitor.get("user_count").model)
    request = rf.get("/elsewhere/", {"format": "json"})
    request.user = UserFactory()
    response = view(request)
    assert response.status_code == 403
    assert "error" in json.loads(response.content)


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
    # The project's own categories first, then the built-in ones (test_app enables them).
    assert content.index("<h2>Users</h2>") < content.index("<h2>Accounts</h2>")
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


def test_the_dashboard_comes_with_its_first_card_rendered(staff_client):
    content = staff_client.get("/monitoring/").content.decode()
    assert content.count('class="monitoring-card-content"') == 1
    article = content.index('id="monitor-orders"')
    assert content.index('class="monitoring-card-content"') > article
    assert content.index('class="monitoring-card-content"') < content.index("</article>", article)


def test_the_dashboard_comes_with_as_many_cards_rendered_as_it_is_told(staff_client, monkeypatch):
    from monitoring.views.dashboard import DashboardView

    monkeypatch.setattr(DashboardView, "first_cards", 4)
    OrderCountFactory()
    content = staff_client.get("/monitoring/", {"cards": "queue_length:1h"}).content.decode()
    first = [handle.name for handle in monitor][:4]
    assert content.count('class="monitoring-card-content"') == 4
    for name in first:
        article = content.index(f'id="monitor-{name}"')
        assert content.index('class="monitoring-card-content"', article) < content.index(
            "</article>", article
        )
    # Each as its own request would have it: the page's range, or the card's own.
    assert 'href="/monitoring/orders/?range=7d&amp;format=csv"' in content
    assert 'href="/monitoring/queue_length/?range=1h&amp;format=csv"' in content
    assert "data-series=" in content
    # The fifth fetches itself.
    fifth = content.index(f'id="monitor-{[handle.name for handle in monitor][4]}"')
    assert content.index("monitoring-loading", fifth) < content.index("</article>", fifth)


def test_a_first_card_that_fails_is_left_to_fetch_itself(staff_client, caplog, monkeypatch):
    from monitoring.views.dashboard import DashboardView

    monkeypatch.setattr(DashboardView, "first_cards", 4)

    class Broken(IntegerCountView):
        def get_series(self, handle, query):
            raise RuntimeError("the storage is on fire")

    handle = monitor.get("orders")
    monitor.unregister("orders")
    monitor.register("orders", Broken.as_view(model=handle.model), title="Orders", order=-1)
    response = staff_client.get("/monitoring/")
    assert response.status_code == 200
    content = response.content.decode()
    article = content.index('id="monitor-orders"')
    assert content.index("monitoring-loading", article) < content.index("</article>", article)
    assert content.count('class="monitoring-card-content"') == 3
    assert "The card of monitor 'orders' failed to render" in caplog.text


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


@pytest.mark.parametrize("part", ["nope", "Banner", "banner ", "cards", "\x00", "<script>"])
def test_an_unknown_dashboard_part_is_a_400_naming_the_parameter(staff_client, part):
    data = staff_client.get("/monitoring/", {"part": part}, HTTP_ACCEPT="application/json")
    assert data.status_code == 400
    assert data["Content-Type"] == "application/json"
    assert data.json() == {
        "error": "Unknown part: the part parameter accepts banner.",
        "parameter": "part",
        "allowed": ["banner"],
    }
    for headers in [{"HTTP_ACCEPT": "text/html"}, {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}]:
        page = staff_client.get("/monitoring/", {"part": part}, **headers)
        assert page.status_code == 400
        assert page["Content-Type"] == "text/plain; charset=utf-8"
        assert page.content.decode() == "Unknown part: the part parameter accepts banner."


def test_an_empty_dashboard_part_is_the_whole_dashboard(staff_client):
    response = staff_client.get("/monitoring/", {"part": ""})
    assert response.status_code == 200
    assert "monitoring-card" in response.content.decode()


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


def test_json_without_range_answers_the_default_range(staff_client_at):
    # A fixed now: 14:30 in Berlin, so the 3-hour buckets and the days don't depend
    # on the hour the test runs.
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
    # MONITORING_DEFAULT_RANGE, as on the dashboard: the last 7 days, 3 hours a bar.
    assert data["range"] == "7d"
    assert data["resolution"] == "3h"
    assert data["timezone"] == "Europe/Berlin"
    assert data["split_by"] is None
    assert data["groups"] == []
    assert data["labels"] == {"time": "Time", "other": "other", "sum": "Total"}
    assert data["group_stat"] == "sum"
    assert data["overflow"] is False
    points = data["points"]
    # The first bucket is floored; a daylight saving change makes one bucket longer or shorter.
    assert 7 * 8 <= len(points) <= 7 * 8 + 2
    local = timezone.localtime(now)
    this_bucket = local.replace(hour=local.hour - local.hour % 3, minute=0, second=0, microsecond=0)
    assert points[-1] == {"start": this_bucket.isoformat(), "value": 3}
    two_days_ago = (now - dt.timedelta(days=2)).timestamp()
    index = max(i for i, ts in enumerate(data["timestamps"]) if ts <= two_days_ago)
    assert points[index]["value"] == 5
    assert sum(p["value"] for p in points) == 8
    assert data["values"]["sum"] == [p["value"] for p in points]
    assert data["timestamps"][-1] == int(this_bucket.timestamp())
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
        # At most about 120 bars: readable at a glance.
        ("1h", "minute"),
        ("6h", "5min"),
        ("24h", "15min"),
        ("7d", "3h"),
        ("30d", "6h"),
        ("90d", "day"),
        ("365d", "week"),
    ],
)
def test_every_range_ends_now_with_a_fitting_resolution(staff_client, range_name, resolution):
    before = timezone.now()
    data = get_json(staff_client, "user_count", range=range_name)
    after = timezone.now()
    assert data["range"] == range_name
    assert data["resolution"] == resolution
    assert len(data["points"]) <= 122
    start = dt.datetime.fromisoformat(data["start"])
    end = dt.datetime.fromisoformat(data["end"])
    span = RANGES[range_name][0]
    # Bucket edges are floored and ceiled around [now - range, now).
    assert start <= before - span
    assert end >= after - dt.timedelta(seconds=1)
    # Plus at most one bucket at each end.
    assert end - start <= span + 2 * BUCKET_SIZES[resolution][0]


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
    assert data["resolution"] == "5min"
    assert 24 <= len(data["points"]) <= 25


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
    assert get_json(staff_client, "user_count", **params)["resolution"] == "15min"
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


@override_settings(MONITORING_DEFAULT_RANGE="24h")
def test_the_default_range_follows_the_setting(staff_client):
    data = get_json(staff_client, "user_count")
    assert data["range"] == "24h"
    assert data["resolution"] == "15min"
    assert len(data["points"]) == 24 * 4 + 1


def test_signals_feed_the_user_monitors(client):
    user = UserFactory()
    client.force_login(user)
    assert monitor.get("user_count").model.objects.count() == 1
    # Logins are counted by the built-in monitoring.contrib.auth.
    assert monitor.get("logins").model.objects.count() == 1


# -- 400s -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "parameter", "allowed"),
    [
        ({"range": "2d"}, "range", ["1h", "6h", "24h", "7d", "30d", "90d", "365d"]),
        ({"range": ""}, None, None),
        (
            {"resolution": "month"},
            "resolution",
            ["auto", "minute", "5min", "15min", "hour", "3h", "6h", "12h", "day", "week"],
        ),
        ({"format": "xml"}, "format", ["page", "card", "json", "csv"]),
        ({"start": "yesterday"}, "start", None),
        ({"start": "2026-03-10", "end": "2026-13-01"}, "end", None),
        ({"end": "2026-03-10"}, "end", None),
        ({"range": "24h", "start": "2026-03-10"}, "start", None),
        ({"start": "2026-03-11", "end": "2026-03-10"}, "end", None),
        ({"start": "2026-03-10", "end": "2026-03-10"}, "end", None),
        (
            {"range": "365d", "resolution": "minute"},
            "resolution",
            ["auto", "hour", "3h", "6h", "12h", "day", "week"],
        ),
        # 15,000 minutes from a start off the minute edge is 15,001 buckets.
        (
            {"start": "2026-01-01T00:00:30", "end": "2026-01-11T10:00:30", "resolution": "minute"},
            "resolution",
            ["auto", "5min", "15min", "hour", "3h", "6h", "12h", "day", "week"],
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
        ({"start": "1901-01-01", "end": "8000-01-01"}, "start", None),
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


@pytest.mark.parametrize("fmt", ["card", "json", "csv"])
def test_every_format_but_the_page_answers_bad_parameters_with_json(staff_client, fmt):
    body = get_400(staff_client, "user_count", format=fmt, range="forever")
    assert body["parameter"] == "range"


def test_the_page_answers_bad_parameters_with_a_page(staff_client):
    response = staff_client.get(url("user_count"), {"format": "page", "range": "forever"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "“range”" in response.content.decode()


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


def text_of(html, css_class):
    """Return the text of the first element with ``css_class``, tags stripped."""
    match = re.search(rf'class="{css_class}"[^>]*>(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def card(client, name, **params):
    response = client.get(url(name), {"format": "card", **params})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def series_json(html):
    import html as html_module

    return html_module.unescape(re.search(r'data-series="([^"]*)"', html).group(1))


def series_of(html):
    return json.loads(series_json(html))


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
    summary = text_of(html, "monitoring-summary")
    assert summary == (
        "New users: 3 in total from March 10, 2026, 12:00 AM to March 11, 2026, 12:00 AM, "
        "up 200% on the period before. Highest hour: 3, starting March 10, 2026, 9:00 AM."
    )
    # Every time is there for scripts too, in the site's zone.
    assert '<time datetime="2026-03-10T09:00:00+01:00">' in html
    assert 'href="/monitoring/user_count/?' in html
    assert "format=csv" in html
    assert 'aria-controls="monitoring-table-user_count"' in html


def test_card_has_an_empty_state(staff_client):
    html = card(staff_client, "user_count", **DAY_PARAMS)
    assert 'data-state="empty"' in html
    assert "No data recorded yet — call <code>monitor.get('user_count').add(1)</code>" in html
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
    assert "2 in total from March 10, 2026, 12:00 AM to March 11, 2026, 12:00 AM, the same as" in (
        text_of(html, "monitoring-summary")
    )


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


# -- values at the edges ----------------------------------------------------------


def strict_json_text(text):
    """Parse like a standard JSON parser: Infinity and NaN are not JSON."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def strict_json(response):
    return strict_json_text(response.content)


def test_a_gauge_at_zero_is_data_not_an_empty_card(staff_client):
    QueueLengthFactory(value=0, created=DAY + dt.timedelta(hours=2))
    html = card(staff_client, "queue_length", **DAY_PARAMS)
    assert 'data-state="ready"' in html
    assert '<span class="monitoring-headline-value">0</span>' in html
    assert "data-series" in html


def test_an_empty_range_tells_when_the_last_point_was(staff_client):
    QueueLengthFactory(value=4, created=DAY - dt.timedelta(days=3, minutes=-5))
    html = card(staff_client, "queue_length", **DAY_PARAMS)
    assert 'data-state="empty"' in html
    assert "No data in this range (last point:" in html
    assert '<time datetime="2026-03-07T00:05:00+01:00">' in html
    assert "No data recorded yet" not in html


EXTREMES = [
    sys.float_info.max,
    -sys.float_info.max,
    sys.float_info.min,
    5e-324,
    1e-300,
    1e300,
    0.0,
    -0.0,
]


@pytest.mark.parametrize("fmt", ["json", "csv", "card"])
def test_a_duration_of_the_largest_float_answers_every_format(staff_client, fmt):
    RequestTimeFactory(value=sys.float_info.max, created=DAY + dt.timedelta(hours=1))
    RequestTimeFactory(value=sys.float_info.max, created=DAY + dt.timedelta(hours=1))
    response = staff_client.get(url("request_time"), {"format": fmt, **DAY_PARAMS})
    assert response.status_code == 200
    if fmt == "json":
        data = strict_json(response)
        # p95 is exact: the bin's value would overflow, max bounds it.
        assert data["summary"]["value"] == sys.float_info.max
        assert data["overflow"] is False


def test_a_gauge_from_tiny_to_huge_has_no_infinite_change(staff_client):
    MonitorLoadAverage.add(1e-300, at=DAY - dt.timedelta(hours=2))
    MonitorLoadAverage.add(1e300, at=DAY + dt.timedelta(hours=2))
    data = strict_json(staff_client.get(url("load_average"), {"format": "json", **DAY_PARAMS}))
    assert data["summary"]["value"] == 1e300
    assert data["summary"]["change"] is None
    html = card(staff_client, "load_average", **DAY_PARAMS)
    assert "vs previous period" not in html


def store_rollup(name, at, value, resolution="hour"):
    """Store one rollup row as the writer would, whatever the database makes of sums."""
    from monitoring.models import Rollup

    Rollup.objects.create(
        monitor=name,
        resolution=resolution,
        start=int(at.timestamp()),
        dimensions="",
        count=1,
        sum=value,
        min=value,
        max=value,
        last=value,
        last_at=int(at.timestamp()) * 1_000_000,
    )


def test_a_sum_that_overflows_is_null_with_a_flag(staff_client):
    # Two hours of the largest float, read as one 3-hour bucket: SQLite would store their
    # sum as infinity, PostgreSQL refuses it, and reading merges them anyway.
    for hours in (3, 4):
        store_rollup("load_average", DAY + dt.timedelta(hours=hours), sys.float_info.max)
    params = {**DAY_PARAMS, "resolution": "3h"}
    response = staff_client.get(url("load_average"), {"format": "json", **params})
    data = strict_json(response)
    assert data["overflow"] is True
    assert data["values"]["avg"][1] is None  # (max + max) / 2 overflowed on the way
    assert data["values"]["max"][1] == sys.float_info.max
    rows = list(
        csv.reader(
            io.StringIO(
                staff_client.get(url("load_average"), {"format": "csv", **params}).content.decode()
            )
        )
    )
    assert rows[2][1] == ""  # avg: blank, as null in JSON
    assert "inf" not in "".join(",".join(row) for row in rows).lower()


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.lists(
        st.one_of(
            st.sampled_from(EXTREMES),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=4,
    ),
    name=st.sampled_from(["load_average", "request_time"]),
    fmt=st.sampled_from(["json", "csv", "card"]),
)
@example(values=[sys.float_info.max] * 2, name="load_average", fmt="json")
@example(
    values=[1.0, 1.0, sys.float_info.max, -sys.float_info.max], name="load_average", fmt="card"
)
def test_no_stored_value_gives_a_500_or_invalid_json(staff_client, values, name, fmt):
    from monitoring.models import Rollup, RollupBin

    handle = monitor.get(name)
    handle.model.objects.all().delete()
    Rollup.objects.filter(monitor=name).delete()
    RollupBin.objects.filter(monitor=name).delete()
    for i, value in enumerate(values):
        if name == "request_time":
            value = abs(value)
        # Two to a bucket, the first bucket in the range and the next one before it: sums,
        # averages and changes of extreme values.
        handle.model.add(value, at=DAY - dt.timedelta(hours=i // 2))
    response = staff_client.get(url(name), {"format": fmt, **DAY_PARAMS})
    assert response.status_code == 200, response.content[:300]
    if fmt == "json":
        strict_json(response)
    elif fmt == "csv":
        assert "inf" not in response.content.decode().lower()
        assert "nan" not in response.content.decode().lower()
    else:
        html = response.content.decode()
        assert "data-state=" in html
        if "data-series" in html:
            strict_json_text(series_json(html))


# -- the monitor's page and the choice of format -------------------------------------


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"range": "bad"}, "range"),
        ({"format": "bad"}, "format"),
        ({"range": "<script>alert(1)</script>"}, "range"),
        ({"format": "page", "top": "0", "split": "plan"}, "top"),
    ],
)
def test_a_browser_gets_a_page_that_names_the_bad_parameter(staff_client, params, parameter):
    response = staff_client.get(url("orders"), params, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "no-cache" in response["Cache-Control"]
    content = response.content.decode()
    assert "<html" in content and "monitoring.css" in content  # the dashboard's look
    assert 'class="monitoring monitoring-denied monitoring-bad-request"' in content
    assert f"“{parameter}”" in content
    # The form's own message, what the parameter accepts, and the ways back.
    as_json = {**params, "format": "json"} if params.get("format") == "page" else params
    error = get_400(staff_client, "orders", **as_json)
    assert escape(error["error"]) in content
    for allowed in error["allowed"]:
        assert f"<code>{escape(allowed)}</code>" in content
    assert f'href="{reverse("monitoring:dashboard")}"' in content
    assert f'href="{url("orders")}"' in content
    assert "<script>alert" not in content


def test_the_bad_parameter_page_speaks_german(staff_client):
    response = staff_client.get(
        url("orders"), {"range": "bad"}, headers={"Accept": BROWSER_ACCEPT, "Accept-Language": "de"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Ihr Parameter „range“ ist ungültig" in content
    assert "Erlaubt sind:" in content
    assert "mit seinen Standardeinstellungen zeigen" in content


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {}),  # a script that sends no Accept header
        ({}, {"Accept": "*/*"}),  # curl
        ({}, {"Accept": "application/json"}),
        ({}, {"Accept": "text/csv"}),
        ({}, {"Accept": BROWSER_ACCEPT, "X-Requested-With": "XMLHttpRequest"}),  # a card
        ({"format": "json"}, {"Accept": BROWSER_ACCEPT}),  # the parameter wins
        ({"format": "csv"}, {"Accept": BROWSER_ACCEPT}),
        ({"format": "card"}, {"Accept": BROWSER_ACCEPT}),
        ({"format": "bad"}, {"Accept": "application/json"}),
    ],
)
def test_clients_and_cards_keep_getting_json_for_a_bad_parameter(staff_client, params, headers):
    response = staff_client.get(url("orders"), {"range": "bad", **params}, headers=headers)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["parameter"] in ("range", "format")


@pytest.mark.parametrize(
    ("params", "headers", "expected"),
    [
        ({}, {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, "page"),
        ({}, {}, "page"),
        ({}, {"X-Requested-With": "XMLHttpRequest"}, "card"),
        ({}, {"Accept": "application/json"}, "json"),
        ({}, {"Accept": "text/csv"}, "csv"),
        ({"format": "card"}, {"Accept": "application/json"}, "card"),
        ({"format": "json"}, {"Accept": "text/html"}, "json"),
        ({"format": "page"}, {"X-Requested-With": "XMLHttpRequest"}, "page"),
    ],
)
def test_the_format_comes_from_the_parameter_or_the_headers(
    staff_client, params, headers, expected
):
    response = staff_client.get(url("orders"), params, headers=headers)
    assert response.status_code == 200
    content = response.content.decode()
    kind = {
        "page": lambda: "<html" in content and "monitoring-detail-page" in content,
        "card": lambda: content.lstrip().startswith('<div class="monitoring-card-content"'),
        "json": lambda: response["Content-Type"] == "application/json",
        "csv": lambda: response["Content-Type"].startswith("text/csv"),
    }
    assert [name for name, check in kind.items() if check()] == [expected]


def test_the_page_has_its_controls_links_and_description(staff_client):
    response = staff_client.get(
        url("orders"), {"start": "2026-03-10T08:00", "end": "2026-03-11", "plan": "pro"}
    )
    html = response.content.decode()
    assert "<title>Orders · Monitoring</title>" in html
    assert "Orders placed, by plan." in html
    assert '<a class="monitoring-back" href="/monitoring/">' in html
    assert 'name="start" class="monitoring-start" value="2026-03-10T08:00"' in html
    assert 'name="end" class="monitoring-end" value="2026-03-11T00:00"' in html
    assert '<option value="plan" selected>plan</option>' in html
    assert 'name="top" class="monitoring-top" min="1" max="20" value="5"' in html
    assert '<input type="hidden" name="plan" value="pro">' in html
    # The card it fetches, and its exports, take the same parameters.
    assert 'data-params="start=2026-03-10T08%3A00&amp;end=2026-03-11&amp;plan=pro"' in html
    assert (
        'href="/monitoring/orders/?start=2026-03-10T08%3A00&amp;end=2026-03-11&amp;plan=pro&amp;format=csv"'
        in html
    )
    assert "format=json" in html


def test_the_page_of_a_range_keeps_it_for_the_way_back(staff_client):
    html = staff_client.get(url("user_count"), {"range": "30d"}).content.decode()
    assert '<a class="monitoring-back" href="/monitoring/?range=30d">' in html
    assert '<option value="30d" selected>' in html
    assert "monitoring-split" not in html  # no dimension, nothing to split


def test_dashboard_card_titles_link_to_their_page(staff_client):
    html = staff_client.get("/monitoring/", {"range": "24h"}).content.decode()
    assert '<a href="/monitoring/orders/?range=24h">Orders</a>' in html


@isolate_apps("test_app")
def test_an_empty_card_tells_never_recorded_from_table_missing(staff_client):
    html = card(staff_client, "user_count", **DAY_PARAMS)
    assert "No data recorded yet" in html

    # Kept out of the app registry, so prune and rebuild don't meet it elsewhere.
    class MonitorNeverMigrated(IntegerCountBase):
        class Meta:
            app_label = "test_app"
            db_table = "test_app_never_migrated"

    monitor.register("never_migrated", IntegerCountView.as_view(model=MonitorNeverMigrated))
    html = card(staff_client, "never_migrated", **DAY_PARAMS)
    assert 'data-state="empty"' in html
    assert (
        "The table test_app_never_migrated does not exist yet: run "
        "<code>python manage.py migrate</code>." in html
    )
    assert "No data recorded yet" not in html
