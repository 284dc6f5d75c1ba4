import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from monitoring.register import monitor
from monitoring.views import IntegerCountView, MonitorView
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


def url(name):
    return reverse("monitoring:monitor", args=[name])


def today_start():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


# -- access -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/monitoring/", "/monitoring/user_count/", "/monitoring/nope/"])
def test_anonymous_is_redirected_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.parametrize("path", ["/monitoring/", "/monitoring/user_count/"])
def test_non_staff_gets_403(user_client, path):
    assert user_client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/monitoring/", "/monitoring/user_count/"])
def test_inactive_staff_is_not_let_in(client, path):
    # ModelBackend drops an inactive user from the session, so they are sent to log in.
    client.force_login(StaffFactory(is_active=False))
    assert client.get(path).status_code == 302


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


def test_staff_sees_the_dashboard_with_every_monitor_grouped(staff_client):
    response = staff_client.get("/monitoring/")
    assert response.status_code == 200
    content = response.content.decode()
    for handle in monitor:
        assert handle.title in content
        assert f'data-url="/monitoring/{handle.name}/"' in content
    assert content.index("<h2>Shop</h2>") < content.index("<h2>System</h2>")
    assert content.index("<h2>System</h2>") < content.index("<h2>Users</h2>")
    assert content.index("Queue length") < content.index("Load average")
    assert "no-cache" in response["Cache-Control"]


def test_dashboard_with_no_monitors_explains_how_to_add_one(staff_client):
    monitor._registry = {}
    response = staff_client.get("/monitoring/")
    assert "No monitors are registered yet" in response.content.decode()


@override_settings(MONITORING_BASE_TEMPLATE="site_base.html")
def test_dashboard_extends_the_configured_base_template(staff_client, settings, tmp_path):
    (tmp_path / "site_base.html").write_text(
        "<html><body><nav>My site</nav>{% block main %}{% endblock %}</body></html>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
    ]
    content = staff_client.get("/monitoring/").content.decode()
    assert "<nav>My site</nav>" in content
    assert "New users" in content


# -- data -------------------------------------------------------------------


def test_unknown_monitor_is_404_with_a_suggestion(staff_client):
    response = staff_client.get("/monitoring/user_cont/")
    assert response.status_code == 404


def test_count_view_answers_daily_sums_for_30_days(staff_client):
    # Creating the staff user counted one new user; start from none.
    monitor.get("user_count").model.objects.all().delete()
    now = timezone.now()
    UserCountFactory.create_batch(3, created=now)
    UserCountFactory(created=now - dt.timedelta(days=2), value=5)
    UserCountFactory(created=now - dt.timedelta(days=40), value=100)  # out of range
    response = staff_client.get(url("user_count"))
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert data["name"] == "user_count"
    assert data["kind"] == "count"
    assert data["stat"] == "sum"
    assert data["resolution"] == "day"
    assert data["timezone"] == "Europe/Berlin"
    points = data["points"]
    assert len(points) == 30
    assert points[-1] == {"start": today_start().isoformat(), "value": 3}
    assert points[-3]["value"] == 5
    assert sum(p["value"] for p in points) == 8
    assert points.count({"start": points[0]["start"], "value": 0}) == 1


def test_dimensioned_count_sums_every_dimension(staff_client):
    OrderCountFactory(plan="pro", value=2)
    OrderCountFactory(plan="free")
    assert staff_client.get(url("orders")).json()["points"][-1]["value"] == 3


def test_value_view_answers_daily_averages_with_gaps(staff_client):
    QueueLengthFactory(value=10)
    QueueLengthFactory(value=20)
    points = staff_client.get(url("queue_length")).json()["points"]
    assert points[-1]["value"] == 15
    assert points[0]["value"] is None


def test_duration_view_answers_daily_counts(staff_client):
    RequestTimeFactory.create_batch(4)
    data = staff_client.get(url("request_time")).json()
    assert data["stat"] == "count"
    assert data["points"][-1]["value"] == 4
    assert data["points"][0]["value"] == 0


def test_a_monitor_registered_after_the_urlconf_loaded_is_reachable(staff_client):
    monitor.unregister("load_average")
    monitor.register("late_load", MonitorView.as_view(model=MonitorLoadAverage))
    MonitorLoadAverage.add(1.5)
    response = staff_client.get("/monitoring/late_load/")
    assert response.status_code == 200
    assert response.json()["points"][-1]["value"] == 1.5


def test_post_is_not_allowed(staff_client):
    assert staff_client.post(url("user_count")).status_code == 405


@override_settings(MONITORING_DEFAULT_DAYS=7)
def test_number_of_days_follows_the_setting(staff_client):
    assert len(staff_client.get(url("user_count")).json()["points"]) == 7


def test_signals_feed_the_user_monitors(client):
    user = UserFactory()
    client.force_login(user)
    assert monitor.get("user_count").model.objects.count() == 1
    assert monitor.get("login_count").model.objects.count() == 1
