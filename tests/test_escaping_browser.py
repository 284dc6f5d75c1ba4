"""Hostile text in every field a page shows, rendered in a real browser: shown, never run.

A monitor's title, description, unit and category, an annotation's text and tags,
an alert rule's filter and the dimension values of stored points all carry the
payloads below. The pages are served with inline scripts allowed, so a payload that
became markup would run and open a dialog; the test also looks for the elements a
payload would add. CSV cells are checked in tests/test_security.py.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps
from django.utils import timezone

import monitoring
from monitoring.alerts import Rule, evaluate
from monitoring.models import IntegerCountBase
from monitoring.register import monitor
from monitoring.views import IntegerCountView
from test_app.middleware import ContentSecurityPolicyMiddleware
from tests.test_dashboard_browser import (  # noqa: F401 - fixtures
    TIMEOUT_MS,
    browser,
    dashboard,
    pytestmark,
)

PAYLOADS = [
    "<script>alert(1)</script>",
    "</script><script>alert(2)</script>",
    '"><img src=x onerror=alert(3)>',
    "'onmouseover='alert(4)",
    "javascript:alert(5)",
    "{{ 7*7 }}",
]
ALL = " ".join(PAYLOADS)
NAME = "hostile"


@pytest.fixture
def hostile(dashboard, monkeypatch):  # noqa: F811 - the imported fixture
    """A count monitor split by a free-text label, every text of it a payload."""
    # Inline scripts and handlers allowed: an injected payload runs instead of being
    # stopped by the policy, and the dialog it opens is seen.
    monkeypatch.setattr(
        ContentSecurityPolicyMiddleware, "policy", "default-src 'self' 'unsafe-inline'"
    )
    with isolate_apps("test_app"):

        class MonitorHostile(IntegerCountBase):
            label = models.CharField(max_length=100, default="")

            class Meta:
                app_label = "test_app"

    with connection.schema_editor() as editor:
        editor.create_model(MonitorHostile)
    for handle in monitor:
        if handle.stored:
            handle.model.objects.all().delete()
    monitor.register(
        NAME,
        IntegerCountView.as_view(model=MonitorHostile),
        title=f"Title {ALL}",
        description=f"Description {ALL}",
        unit=f"unit {PAYLOADS[2]}",
        category=f"Category {ALL}",
    )
    now = timezone.now()
    # The first payload the most often: the five of a card's top five are the first five.
    for i, label in enumerate(PAYLOADS):
        MonitorHostile.add(10 - i, label=label, at=now - dt.timedelta(hours=i + 1))
    monitoring.annotate(f"Annotation {ALL}", tags=PAYLOADS, at=now - dt.timedelta(hours=3))
    monitor._alerts = {}
    monitor.alert("hostile_rule", Rule(NAME, above=0, window="1d", filters={"label": PAYLOADS[2]}))
    assert [t.rule for t in evaluate()] == ["hostile_rule"]
    # The page's requests for src=x, should an image be injected after all.
    dashboard.allowed_errors.append("404 (Not Found)")
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    dashboard.page.on("dialog", on_dialog)
    yield dialogs
    with connection.schema_editor() as editor:
        editor.delete_model(MonitorHostile)


def injected(page):
    """Return what the payloads would add: their images, inline scripts and handlers."""
    return page.evaluate(
        """() => {
            const found = [];
            document.querySelectorAll('img[src=x], img[onerror]').forEach(
                e => found.push(e.outerHTML));
            document.querySelectorAll('script').forEach(s => {
                // The page's own scripts are files, or JSON data that never runs.
                if (!s.src && s.type !== 'application/json') found.push(s.outerHTML);
            });
            document.querySelectorAll('*').forEach(e => {
                for (const a of e.attributes) {
                    if (a.name.startsWith('on')) found.push(e.tagName + ' ' + a.name);
                    if (['href', 'src', 'action', 'formaction'].includes(a.name)
                        && /^\\s*javascript:/i.test(a.value)) found.push(e.tagName + ' ' + a.name);
                }
            });
            return found;
        }"""
    )


def check(dashboard, dialogs):  # noqa: F811
    assert (dialogs, injected(dashboard.page)) == ([], [])


def hover_chart(dashboard, name):  # noqa: F811
    card = dashboard.card(name)
    box = card.locator(".u-over").bounding_box()
    for fraction in (0.2, 0.5, 0.8, 0.99):
        dashboard.page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def check_card(card):
    """Check the texts a card fetched by cards.js shows: headline unit, badge, legend."""
    assert card.locator(".monitoring-headline-unit").inner_text() == f"unit {PAYLOADS[2]}"
    assert f"unit {PAYLOADS[2]}" in card.locator(".monitoring-summary").inner_text()
    badge = card.locator(".monitoring-alert-badge[data-rule=hostile_rule]")
    assert badge.inner_text() == "Firing: hostile_rule"
    assert PAYLOADS[2] in badge.get_attribute("title")
    # The chart keeps the top five labels and groups the sixth: the first five payloads.
    legend = card.locator(".u-legend").inner_text()
    for label in PAYLOADS[:5]:
        assert label in legend, label


def test_payloads_are_shown_as_text_on_the_dashboard(dashboard, hostile):  # noqa: F811
    dashboard.open("?range=24h")
    dashboard.wait_drawn(NAME)
    dashboard.page.wait_for_selector(f"#monitor-{NAME}[data-markers='1'] .monitoring-marker")
    page = dashboard.page
    card = dashboard.card(NAME)
    check(dashboard, hostile)
    assert card.locator(".monitoring-card-title a").inner_text() == f"Title {ALL}"
    assert card.locator(".monitoring-description").inner_text() == f"Description {ALL}"
    assert f"Category {ALL}" in page.locator(".monitoring-category h2").all_text_contents()
    assert card.locator(".monitoring-unit").inner_text() == f"unit {PAYLOADS[2]}"
    assert (
        card.locator(".monitoring-card-range").get_attribute("aria-label")
        == f"Range of Title {ALL}"
    )
    check_card(card)
    hover_chart(dashboard, NAME)
    marker = card.locator(".monitoring-marker")
    assert marker.get_attribute("title").startswith(f"Annotation {ALL} · ")
    marker.hover()
    banner = page.locator(".monitoring-banner li[data-rule=hostile_rule]")
    assert PAYLOADS[2] in banner.inner_text()
    check(dashboard, hostile)


def test_payloads_are_shown_as_text_on_the_monitor_page(dashboard, hostile):  # noqa: F811
    page = dashboard.page
    # Split by the label and filtered by one payload, so it lands in the form too.
    for query in (
        {"range": "24h", "split": "label", "top": "10"},
        {"range": "24h", "split": "none", "label": PAYLOADS[2]},
    ):
        response = page.goto(f"{dashboard.base_url}/monitoring/{NAME}/?{urlencode(query)}")
        assert response.status == 200
        dashboard.wait_drawn(NAME)
        page.wait_for_selector(f"#monitor-{NAME}[data-markers='1'] .monitoring-marker")
        card = dashboard.card(NAME)
        assert page.title() == f"Title {ALL} · Monitoring"
        assert page.locator("h1").inner_text() == f"Title {ALL} unit {PAYLOADS[2]}"
        assert page.locator(".monitoring-description").first.inner_text() == f"Description {ALL}"
        table = card.locator(".monitoring-table table")
        assert table.is_visible()
        assert table.locator("caption").inner_text() == f"Title {ALL} (unit {PAYLOADS[2]})"
        if query["split"] == "label":
            head = table.locator("thead").inner_text()
            for label in PAYLOADS:
                assert label in head, label
        hover_chart(dashboard, NAME)
        card.locator(".monitoring-marker").hover()
        tags = page.locator(".monitoring-annotation-filter input")
        assert tags.evaluate_all("boxes => boxes.map(b => b.value)") == sorted(PAYLOADS)
        for label in PAYLOADS:
            assert page.locator(".monitoring-annotation-filter").get_by_label(label).count() == 1
        rule = page.locator(".monitoring-rule-list tr[data-rule=hostile_rule]")
        assert PAYLOADS[2] in rule.inner_text()
        if query["split"] == "none":
            # Rule lines are drawn on unsplit charts only.
            threshold = card.locator(".monitoring-threshold[data-rule=hostile_rule]")
            assert PAYLOADS[2] in threshold.get_attribute("title")
            hidden = page.locator(".monitoring-detail-controls input[name=label]")
            assert hidden.get_attribute("value") == PAYLOADS[2]
        check(dashboard, hostile)


def test_payloads_are_shown_as_text_in_an_embedded_card(dashboard, hostile, settings):  # noqa: F811
    settings.ROOT_URLCONF = "tests.urls_embed"
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/staff-page-hostile/")
    dashboard.wait_drawn(NAME)
    card = dashboard.card(NAME)
    check(dashboard, hostile)
    assert card.locator(".monitoring-card-title a").inner_text() == f"Title {ALL}"
    check_card(card)
    hover_chart(dashboard, NAME)
    check(dashboard, hostile)


def test_payloads_are_shown_as_text_in_the_admin(dashboard, hostile, django_user_model):  # noqa: F811
    django_user_model.objects.filter(is_staff=True).update(is_superuser=True)
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/admin/monitoring/annotation/")
    row = page.locator("#result_list tbody tr").first
    check(dashboard, hostile)
    assert f"Annotation {ALL}" in row.inner_text()
    assert ", ".join(PAYLOADS) in row.inner_text()
    check(dashboard, hostile)
    page.goto(f"{dashboard.base_url}/admin/monitoring/alertstate/")
    assert "hostile_rule" in page.locator("#result_list").inner_text()
    check(dashboard, hostile)
