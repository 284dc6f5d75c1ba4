"""The demo project's commands produce what the README promises."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from monitoring.queries import get_series
from monitoring.register import monitor
from test_app.management.commands import demo
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
    MonitorUserCount,
)

pytestmark = pytest.mark.django_db


def test_sample_data_spans_the_days_with_a_daily_and_weekly_rhythm(freeze_now):
    # The data ends now: a fixed now makes it the same data on every run.
    freeze_now(dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.timezone.utc))
    out = StringIO()
    call_command("monitoring_sample_data", "--days", "28", stdout=out)
    assert "Sample data for 28 days written." in out.getvalue()
    assert "Staff login: admin / monitoring" in out.getvalue()
    staff = get_user_model().objects.get(username="admin")
    assert staff.is_staff and staff.is_active and staff.check_password("monitoring")
    oldest = MonitorQueueLength.objects.earliest("created").created
    assert timezone.now() - oldest >= dt.timedelta(days=27, hours=23)
    # Gauges every 10 minutes.
    assert MonitorLoadAverage.objects.count() == 28 * 144
    # Night (02-05 local) is quieter than afternoon (14-17), weekends quieter than weekdays.
    requests = [
        timezone.localtime(c) for c in MonitorRequestTime.objects.values_list("created", flat=True)
    ]
    night = sum(1 for c in requests if 2 <= c.hour < 5)
    afternoon = sum(1 for c in requests if 14 <= c.hour < 17)
    assert afternoon > 2 * night
    weekday = sum(1 for c in requests if c.weekday() < 5) / 5
    weekend = sum(1 for c in requests if c.weekday() >= 5) / 2
    assert weekday > weekend
    plans = set(MonitorOrderCount.objects.values_list("plan", flat=True))
    assert plans == {"free", "pro", "team"}
    # The orders table the 'revenue' chart and the 'unpaid_orders' gauge read: the same
    # orders, the last hour's still unpaid.
    from test_app.models import Order

    assert Order.objects.count() == MonitorOrderCount.objects.count()
    unpaid = Order.objects.filter(paid=False)
    assert unpaid.exists()
    assert not unpaid.filter(placed__lt=timezone.now() - dt.timedelta(hours=1)).exists()
    assert monitor.get("unpaid_orders").function() == unpaid.count()
    revenue = get_series("revenue", start=oldest, end=timezone.now() + dt.timedelta(minutes=1))
    assert revenue.summary == sum(o.total for o in Order.objects.all())


def test_sample_data_is_repeatable_and_clear_replaces_it(freeze_now):
    # Pinned: the data ends at the current minute, so two runs across a minute's edge differ.
    freeze_now(dt.datetime(2026, 3, 10, 13, 59, 59, 900000, tzinfo=dt.timezone.utc))
    call_command("monitoring_sample_data", "--days", "3", stdout=StringIO())
    first = MonitorUserCount.objects.aggregate(total=Sum("value"))["total"]
    call_command("monitoring_sample_data", "--days", "3", "--clear", stdout=StringIO())
    assert MonitorUserCount.objects.aggregate(total=Sum("value"))["total"] == first


def test_sample_data_refuses_a_silly_number_of_days():
    with pytest.raises(CommandError, match="--days must be from 1 to 3650"):
        call_command("monitoring_sample_data", "--days", "0")


def test_demo_sets_up_data_and_a_staff_login_without_serving():
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    assert "http" not in text  # it serves nothing, so it names no URL
    assert text.count("Staff login: admin / monitoring") == 1
    assert "The demo is set up" in text
    user = get_user_model().objects.get(username="admin")
    assert user.is_staff and user.is_active and user.check_password("monitoring")
    assert MonitorQueueLength.objects.count() == 90 * 144
    # A second run keeps the data and repairs the login.
    user.set_password("changed")
    user.save()
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    assert out.getvalue().count("Staff login: admin / monitoring") == 1
    assert MonitorQueueLength.objects.count() == 90 * 144
    user.refresh_from_db()
    assert user.check_password("monitoring")


@pytest.mark.parametrize(
    ("addrport", "url"),
    [
        ([], "http://127.0.0.1:8000/monitoring/"),
        (["8001"], "http://127.0.0.1:8001/monitoring/"),
        (["0.0.0.0:8002"], "http://0.0.0.0:8002/monitoring/"),
    ],
)
def test_demo_serves_where_it_is_told_and_prints_that_url(monkeypatch, addrport, url):
    served = []
    monkeypatch.setattr(
        demo, "call_command",
        lambda name, *args, **kwargs: served.append((name, args)) if name == "runserver"
        else call_command(name, *args, **kwargs),
    )  # fmt: skip
    call_command("monitoring_sample_data", "--days", "1", stdout=StringIO())
    out = StringIO()
    call_command("demo", *addrport, stdout=out)
    assert served == [("runserver", tuple(addrport or ["127.0.0.1:8000"]))]
    assert f"Dashboard: {url}" in out.getvalue()
    assert out.getvalue().count("Staff login: admin / monitoring") == 1


def test_sample_data_is_rolled_up_so_the_charts_show_it(freeze_now):
    freeze_now(dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.timezone.utc))
    call_command("monitoring_sample_data", "--days", "3", stdout=StringIO())
    end = timezone.now()
    series = get_series(
        "request_time", start=end - dt.timedelta(days=3), end=end, resolution="hour"
    )
    assert series.values["count"][-72:].count(0) < 72
    assert sum(series.values["count"]) == MonitorRequestTime.objects.count()
    orders = get_series("orders", start=end - dt.timedelta(days=4), end=end, resolution="day")
    assert sum(orders.values["sum"]) == MonitorOrderCount.objects.aggregate(n=Sum("value"))["n"]
    # --clear replaces the rollups along with the rows.
    call_command("monitoring_sample_data", "--days", "3", "--clear", stdout=StringIO())
    again = get_series("orders", start=end - dt.timedelta(days=4), end=end, resolution="day")
    assert sum(again.values["sum"]) == MonitorOrderCount.objects.aggregate(n=Sum("value"))["n"]


@pytest.mark.parametrize("hour", [14, 2])  # the afternoon and the quietest night hour
def test_the_demo_rules_fire_on_the_sample_data_and_resolve(freeze_now, client, settings, hour):
    from django.core import mail

    from monitoring.alerts import evaluate
    from monitoring.models import Annotation

    settings.MONITORING_HEALTH_ANONYMOUS = True
    now = freeze_now(dt.datetime(2026, 3, 8, hour, 30, tzinfo=dt.timezone.utc))  # a Sunday
    call_command("monitoring_sample_data", "--days", "4", stdout=StringIO())
    assert [a.text for a in Annotation.objects.order_by("at")] == [
        "Deployed v1.3",
        "Database migration",
        "Deployed v1.4",
    ]
    fired = {t.rule: t.state for t in evaluate()}
    assert fired == {"slow_requests": "firing", "busy_queue": "firing"}
    assert sorted(m.subject for m in mail.outbox) == [
        "[monitoring] FIRING: busy_queue",
        "[monitoring] FIRING: slow_requests",
    ]
    assert client.get("/monitoring/health").status_code == 503
    # An hour after the sample data ends, no request is left in slow_requests' window.
    freeze_now(now + dt.timedelta(hours=1, minutes=15))
    assert {t.rule: t.state for t in evaluate()} == {"slow_requests": "ok"}
    assert mail.outbox[-1].subject == "[monitoring] RESOLVED: slow_requests"
    assert client.get("/monitoring/health").status_code == 200


def test_sample_data_fills_every_chart_of_the_demo_built_ins_included(freeze_now):
    # The demo is where a newcomer sees "all aspects of the webapp": no empty card but
    # the sampled gauge, which the jobs thread reads while the demo runs.
    freeze_now(dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.timezone.utc))
    call_command("monitoring_sample_data", "--days", "3", stdout=StringIO())
    end = timezone.now()
    empty = []
    for handle in monitor:
        series = get_series(handle.name, start=end - dt.timedelta(days=2), end=end)
        if not any(value for values in series.values.values() for value in values):
            empty.append(handle.name)
    assert empty == ["unpaid_orders"]
    # The built-ins look like a site's: requests by status class, a few errors.
    requests = get_series(
        "requests", start=end - dt.timedelta(days=3), end=end, split_by="status_class"
    )
    assert {group.label for group in requests.groups} >= {"2xx", "3xx", "4xx"}
