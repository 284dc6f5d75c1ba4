"""The template tags, the admin integration and the admin base template."""

import pytest
from django.template import TemplateSyntaxError, engines
from django.test import RequestFactory, override_settings

from monitoring.exceptions import NotRegistered
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def render(source, user):
    request = RequestFactory().get("/somewhere/")
    request.user = user
    return engines["django"].from_string("{% load monitoring %}" + source).render(request=request)


def test_a_card_tag_renders_a_live_card_for_staff():
    html = render("{% monitoring_card 'orders' range='24h' %}", StaffFactory())
    assert 'class="monitoring monitoring-embed" data-range="24h"' in html
    assert 'data-url="/monitoring/orders/"' in html
    assert 'data-timezone="Europe/Berlin"' in html
    assert '<a href="/monitoring/orders/?range=24h">Orders</a>' in html
    assert "data-messages=" in html


def test_each_card_of_one_monitor_on_a_page_gets_its_own_id():
    html = render(
        "{% monitoring_card 'orders' %}{% monitoring_card 'orders' range='24h' %}"
        "{% monitoring_card 'user_count' %}",
        StaffFactory(),
    )
    assert 'id="monitor-orders"' in html
    assert 'id="monitor-orders-2"' in html
    assert 'id="monitor-user_count"' in html


def test_a_card_tag_takes_the_default_range():
    assert 'data-range="7d"' in render("{% monitoring_card 'orders' %}", StaffFactory())


def test_the_assets_tag_brings_the_stylesheets_and_scripts():
    html = render("{% monitoring_assets %}", StaffFactory())
    for asset in ["monitoring.css", "uPlot.min.css", "jquery.min.js", "cards.js", "chart.js"]:
        assert asset in html


@pytest.mark.parametrize("source", ["{% monitoring_card 'orders' %}", "{% monitoring_assets %}"])
def test_the_tags_render_nothing_for_users_who_may_not_see_monitoring(source):
    from django.contrib.auth.models import AnonymousUser

    assert render(source, UserFactory()) == ""
    assert render(source, AnonymousUser()) == ""
    assert render(source, StaffFactory(is_active=False)) == ""


@override_settings(MONITORING_PERMISSION="test_app.view_monitorusercount")
def test_the_tags_follow_the_permission_setting():
    assert render("{% monitoring_card 'orders' %}", StaffFactory()) == ""
    assert "monitoring-card" in render(
        "{% monitoring_card 'orders' %}", StaffFactory(is_superuser=True)
    )


def test_a_card_tag_with_a_typo_or_a_bad_range_is_an_error():
    with pytest.raises(NotRegistered, match="Did you mean 'orders'"):
        render("{% monitoring_card 'order' %}", StaffFactory())
    with pytest.raises(TemplateSyntaxError, match="range='2d'"):
        render("{% monitoring_card 'orders' range='2d' %}", StaffFactory())


# -- the admin ----------------------------------------------------------------------


def test_the_admin_index_has_a_monitoring_link_and_module_for_staff(client):
    client.force_login(StaffFactory())
    html = client.get("/admin/").content.decode()
    assert '<a href="/monitoring/" class="monitoring-admin-link">Monitoring</a> /' in html
    assert 'id="monitoring-admin-module"' in html
    # Live cards of the first two monitors, with what they need.
    assert html.count('class="monitoring monitoring-embed"') == 2
    assert "monitoring/js/cards.js" in html


@override_settings(MONITORING_ADMIN_CARDS=["request_time"])
def test_the_admin_index_shows_the_cards_it_is_told_to(client):
    client.force_login(StaffFactory())
    html = client.get("/admin/").content.decode()
    assert html.count('class="monitoring monitoring-embed"') == 1
    assert 'data-monitor="request_time"' in html


@override_settings(MONITORING_PERMISSION="test_app.view_monitorusercount")
def test_admin_users_who_may_not_see_monitoring_get_no_link(client):
    client.force_login(StaffFactory())  # may use the admin, lacks the permission
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "monitoring-admin-link" not in html
    assert "monitoring-admin-module" not in html
    assert "monitoring/js/cards.js" not in html


@override_settings(MONITORING_BASE_TEMPLATE="monitoring/admin_base.html")
@pytest.mark.parametrize(
    ("path", "crumbs"),
    [("/monitoring/", "</a>\n  › Monitoring\n"), ("/monitoring/orders/", "› Orders")],
)
def test_the_admin_base_template_puts_the_pages_in_the_admin(client, path, crumbs):
    client.force_login(StaffFactory())
    html = client.get(path).content.decode()
    assert 'id="site-name"' in html  # the admin's header (a div since Django 5.0, an h1 before)
    assert 'class="monitoring-admin-link"' in html  # its user tools, with our link
    assert 'class="breadcrumbs"' in html and crumbs in html
    assert "monitoring-admin" in html  # the body class that takes the admin's colours
    assert 'class="monitoring' in html
