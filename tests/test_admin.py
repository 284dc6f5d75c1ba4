"""monitoring.admin: read-only admins for the rollups and, on request, for raw rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AlreadyRegistered
from django.db.models.signals import post_save
from factory.django import mute_signals

from monitoring.admin import register_raw
from monitoring.models import IntegerCountBase
from test_app.models import MonitorOrderCount, MonitorQueueLength
from tests.factories import OrderCountFactory, StaffFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def orders():
    OrderCountFactory(plan="pro", value=4, created=NOW)
    OrderCountFactory(plan="free", value=2, created=NOW - dt.timedelta(days=1))


def test_raw_rows_are_listed_newest_first_with_a_link_to_the_chart(admin_client, orders):
    response = admin_client.get("/admin/test_app/monitorordercount/")
    assert response.status_code == 200
    content = response.content.decode()
    rows = content[content.index('id="result_list"') :]
    assert rows.index('"field-plan">Pro<') < rows.index('"field-plan">Free<')
    assert '<a href="/monitoring/orders/">Orders</a>' in content
    assert "?created__year=2026" in content  # the date hierarchy


def test_raw_rows_filter_by_dimension(admin_client, orders):
    response = admin_client.get("/admin/test_app/monitorordercount/?plan=free")
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert [row.plan for row in rows] == ["free"]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/test_app/monitorordercount/add/",
        "/admin/monitoring/rollup/add/",
    ],
)
def test_nobody_adds_rows(admin_client, url):
    assert admin_client.get(url).status_code == 403


def test_a_row_can_be_viewed_not_changed_or_deleted(admin_client, orders):
    row = MonitorOrderCount.objects.get(plan="pro")
    change = admin_client.get(f"/admin/test_app/monitorordercount/{row.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert (
        admin_client.post(f"/admin/test_app/monitorordercount/{row.pk}/delete/").status_code == 403
    )
    assert MonitorOrderCount.objects.filter(pk=row.pk).exists()


def test_the_rollups_are_listed_read_only(admin_client, orders):
    response = admin_client.get("/admin/monitoring/rollup/?resolution__exact=day&monitor=orders")
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert sorted((r.monitor, r.sum) for r in rows) == [("orders", 2.0), ("orders", 4.0)]
    assert admin_client.get("/admin/monitoring/rollupbin/").status_code == 200


def test_non_staff_users_see_no_monitoring_admin(user_client):
    assert user_client.get("/admin/monitoring/rollup/").status_code == 302


def test_register_raw_refuses_what_is_not_a_concrete_monitor_model():
    site = admin.AdminSite()
    with pytest.raises(TypeError, match="concrete model built on a monitoring base"):
        register_raw(IntegerCountBase, site)
    with pytest.raises(TypeError):
        register_raw(admin.models.LogEntry, site)
    register_raw(MonitorQueueLength, site)
    with pytest.raises(AlreadyRegistered):
        register_raw(MonitorQueueLength, site)


def test_a_staff_user_with_the_view_permission_only_can_look(client, orders):
    from django.contrib.auth.models import Permission

    with mute_signals(post_save):
        user = StaffFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_monitorordercount"))
    client.force_login(user)
    assert client.get("/admin/test_app/monitorordercount/").status_code == 200
    assert client.get("/admin/monitoring/rollup/").status_code == 403
    assert client.get("/admin/test_app/monitorordercount/add/").status_code == 403


def test_the_raw_list_counts_at_most_the_cap(admin_client, orders, monkeypatch):
    from monitoring.admin import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "CAP", 1)
    response = admin_client.get("/admin/test_app/monitorordercount/")
    assert response.context["cl"].result_count == 1


def test_free_text_dimensions_get_no_filter(admin_client):
    from test_app.models import MonitorUserCount

    site = admin.AdminSite()
    model_admin = register_raw(MonitorUserCount, site)(MonitorUserCount, site)
    assert model_admin.get_list_filter(None) == []
    orders_admin = admin.site._registry[MonitorOrderCount]
    assert orders_admin.get_list_filter(None) == ["plan"]
