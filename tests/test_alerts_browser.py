"""Alerts and annotations in a real browser: markers, threshold lines, badge, banner, history.

Runs with the fixtures of tests/test_dashboard_browser.py (Chromium, a strict CSP,
no console errors, the browser's locale and zone pinned).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

import monitoring
from monitoring.alerts import Rule, evaluate
from monitoring.register import monitor
from tests.test_dashboard_browser import (  # noqa: F401 - fixtures
    TIMEOUT_MS,
    browser,
    dashboard,
    known_data,
    pytestmark,
)

NAMES = ["user_count", "orders", "queue_length", "load_average", "request_time"]


@pytest.fixture
def alerting(known_data, settings):  # noqa: F811 - the imported fixture
    """A firing rule on queue_length (max above 10) and two annotations in the last day."""
    settings.MONITORING_ALERT_EMAILS = ["ops@example.com"]
    monitor._alerts = {}
    monitor.alert("busy_queue", Rule("queue_length", stat="max", above=10, window="1d"))
    monitor.alert("slow", Rule("request_time", stat="p95", above=100_000))
    now = timezone.now()
    monitoring.annotate(
        "Deployed v1.4", tags=["deploy", "release train"], at=now - dt.timedelta(hours=6)
    )
    monitoring.annotate("Queue incident", tags=["incident"], at=now - dt.timedelta(hours=2))
    assert [t.rule for t in evaluate()] == ["busy_queue"]


def threshold_offset(dashboard, name, rule):  # noqa: F811
    """Return how far the rule's line is from where the chart puts its value, in pixels."""
    return dashboard.page.evaluate(
        """([name, rule]) => {
            const card = document.getElementById('monitor-' + name);
            const line = card.querySelector('.monitoring-threshold[data-rule="' + rule + '"]');
            const plot = djangoMonitoring.plotOf(card);
            const value = Number(line.getAttribute('data-value'));
            const box = line.getBoundingClientRect(), over = plot.over.getBoundingClientRect();
            return Math.abs(box.top + 1 - over.top - plot.valToPos(value, "y"));
        }""",
        [name, rule],
    )


def test_markers_thresholds_badge_and_banner_on_the_dashboard(dashboard, alerting):  # noqa: F811
    dashboard.open("?range=24h")
    banner = dashboard.page.locator(".monitoring-banner")
    assert "Alerts firing now:" in banner.inner_text()
    assert banner.locator("li").count() == 1
    assert banner.locator("li[data-rule=busy_queue] a").get_attribute("href") == (
        "/monitoring/queue_length/"
    )
    for name in NAMES:
        dashboard.wait_drawn(name)
        # Every chart draws both annotations as markers.
        dashboard.page.wait_for_selector(f"#monitor-{name}[data-markers='2']", timeout=TIMEOUT_MS)
    card = dashboard.card("queue_length")
    assert card.locator(".monitoring-alert-badge").inner_text() == "Firing: busy_queue"
    assert dashboard.card("orders").locator(".monitoring-alert-badge").count() == 0
    markers = card.locator(".monitoring-marker")
    assert markers.count() == 2
    assert markers.nth(0).get_attribute("title").startswith("Deployed v1.4 · ")
    assert markers.nth(0).get_attribute("title").endswith(" [deploy, release train]")
    assert markers.nth(1).get_attribute("title").startswith("Queue incident · ")
    # Markers sit inside the plot, in time order, and are what the pointer hovers there.
    box = card.locator(".u-over").bounding_box()
    first, second = (markers.nth(i).bounding_box() for i in range(2))
    assert box["x"] < first["x"] < second["x"] < box["x"] + box["width"]
    dashboard.page.mouse.move(second["x"] + second["width"] / 2, box["y"] + box["height"] / 2)
    hovered = dashboard.page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).getAttribute('title')",
        [second["x"] + second["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hovered.startswith("Queue incident")
    # The firing rule's line is drawn at its threshold, within the plot.
    line = card.locator(".monitoring-threshold[data-rule=busy_queue]")
    assert line.count() == 1
    assert "monitoring-threshold-firing" in line.get_attribute("class")
    assert line.get_attribute("data-outside") == ""
    assert threshold_offset(dashboard, "queue_length", "busy_queue") <= 1
    line_box = line.bounding_box()
    assert box["y"] < line_box["y"] < box["y"] + box["height"]
    # A rule far above the data is pinned to the top edge, marked as outside.
    slow = dashboard.card("request_time").locator(".monitoring-threshold[data-rule=slow]")
    assert slow.get_attribute("data-outside") == "above"
    assert "monitoring-threshold-ok" in slow.get_attribute("class")


def test_the_monitor_page_filters_markers_by_tag_and_lists_the_rule_history(
    dashboard,  # noqa: F811
    alerting,
):
    response = dashboard.page.goto(f"{dashboard.base_url}/monitoring/queue_length/?range=24h")
    assert response.status == 200
    dashboard.page.wait_for_selector(
        "#monitor-queue_length[data-markers='2'] .monitoring-marker", timeout=TIMEOUT_MS
    )
    card = dashboard.card("queue_length")
    tag_filter = dashboard.page.locator(".monitoring-annotation-filter")
    assert tag_filter.is_visible()
    assert tag_filter.locator("input").evaluate_all("boxes => boxes.map(b => b.value)") == [
        "deploy",
        "incident",
        "release train",
    ]
    assert card.locator(".monitoring-marker:visible").count() == 2
    tag_filter.get_by_label("deploy").uncheck()
    assert card.locator(".monitoring-marker:visible").count() == 2  # still shown by its other tag
    tag_filter.get_by_label("release train").uncheck()  # a tag with a space
    visible = card.locator(".monitoring-marker:visible")
    assert visible.count() == 1
    assert visible.get_attribute("title").startswith("Queue incident")
    tag_filter.get_by_label("deploy").check()
    assert card.locator(".monitoring-marker:visible").count() == 2
    assert threshold_offset(dashboard, "queue_length", "busy_queue") <= 1
    rules = dashboard.page.locator(".monitoring-rule-list tr[data-rule=busy_queue]")
    assert "firing" in rules.inner_text()
    history = dashboard.page.locator(".monitoring-rule-history tbody tr")
    assert history.count() == 1
    assert "busy_queue" in history.inner_text() and "ok → firing" in history.inner_text()


def test_a_reload_brings_the_banner_up_to_date(dashboard, alerting):  # noqa: F811
    from monitoring.models import AlertState

    page = dashboard.page
    dashboard.open("?range=24h")
    banner = page.locator(".monitoring-banner")
    assert banner.locator("li").all_inner_texts()[0].startswith("busy_queue:")
    reload = "jQuery('main.monitoring').trigger('monitoring:reload', [{quiet: true}])"
    # Resolved meanwhile, and another rule firing: what auto-refresh shows next.
    AlertState.objects.filter(rule="busy_queue").update(state="ok")
    AlertState.objects.filter(rule="slow").update(state="firing")
    page.evaluate(reload)
    page.wait_for_selector(".monitoring-banner li[data-rule=slow]")
    assert banner.locator("li").count() == 1
    # Nothing firing: no banner at all.
    AlertState.objects.update(state="ok")
    page.evaluate(reload)
    page.wait_for_selector(".monitoring-banner", state="detached")
    assert page.locator(".monitoring-banner-slot").count() == 1
