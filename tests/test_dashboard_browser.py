"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against live_server.

Every page here is served with ``Content-Security-Policy: default-src 'self'``
(test_app's middleware), and every test fails on a console error.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.test import Client
from django.utils import timezone
from factory.django import mute_signals

from monitoring.register import monitor
from monitoring.views import ValueView
from test_app.models import MonitorLoadAverage, Order
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, wait_until_served
from tests.factories import (
    OrderCountFactory,
    QueueLengthFactory,
    RequestTimeFactory,
    StaffFactory,
    UserCountFactory,
)

TIMEOUT_MS = 20_000
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# The browser's own locale and zone, pinned for every test. CI runs this file twice with
# different values: what the page shows must not depend on them.
BROWSER_LOCALE = os.environ.get("MONITORING_BROWSER_LOCALE", "en-US")
BROWSER_TIMEZONE = os.environ.get("MONITORING_BROWSER_TIMEZONE", "America/New_York")
BROWSER_ZONE = zoneinfo.ZoneInfo(BROWSER_TIMEZONE)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not at /usr/bin/chromium (apt-get install -y chromium)",
    ),
    pytest.mark.django_db(transaction=True),
]


def plain(text):
    """Return ``text`` with the narrow and no-break spaces Intl uses as plain spaces."""
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def clock(moment, language, zone=BERLIN):
    """Return the hour and minute of ``moment`` as the page must show them.

    The rule: the site's zone (Berlin), and the page language's clock, 24-hour in German,
    12-hour in English, whatever the browser's own locale and zone.
    """
    local = moment.astimezone(zone)
    if language == "de":
        return f"{local:%H:%M}"
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Dashboard:
    """A logged-in page with the requests it made and the errors it logged."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.allowed_errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        # Collected from the first script on, so a blocked inline style or script is seen.
        page.add_init_script(
            "window.__globals = Object.keys(window);"
            # Which elements ResizeObservers watch, to catch charts that are never let go.
            "window.__observed = new Set();"
            "const observe = ResizeObserver.prototype.observe;"
            "const unobserve = ResizeObserver.prototype.unobserve;"
            "ResizeObserver.prototype.observe = function (el, o) {"
            " window.__observed.add(el); return observe.call(this, el, o); };"
            "ResizeObserver.prototype.unobserve = function (el) {"
            " window.__observed.delete(el); return unobserve.call(this, el); };"
            "window.__violations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
        )

    def speak(self, language):
        """Show the pages in ``language`` from now on."""
        self.page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": self.base_url}]
        )

    def open(self, query: str = ""):
        response = self.page.goto(f"{self.base_url}/monitoring/{query}")
        assert response.status == 200
        return response

    def card(self, name):
        return self.page.locator(f"#monitor-{name}")

    def card_requests(self, name):
        return [url for url in self.requests if urlparse(url).path == f"/monitoring/{name}/"]

    def wait_settled(self, *names):
        for name in names:
            self.page.wait_for_selector(
                f"#monitor-{name}[data-state=ready], #monitor-{name}[data-state=empty]",
                timeout=TIMEOUT_MS,
            )

    def wait_drawn(self, name, times=1):
        self.page.wait_for_selector(
            f"#monitor-{name}[data-drawn='{times}'] .monitoring-chart canvas", timeout=TIMEOUT_MS
        )

    def coloured_pixels(self, name):
        """Count the chart's pixels that are clearly coloured (axes and grid are grey)."""
        return self.card(name).evaluate(
            """card => {
                const canvas = card.querySelector('.monitoring-chart canvas');
                const data = canvas.getContext('2d').getImageData(
                    0, 0, canvas.width, canvas.height).data;
                let n = 0;
                for (let i = 0; i < data.length; i += 4) {
                    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                    if (a > 100 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
                }
                return n;
            }"""
        )

    def check_clean(self):
        errors = [e for e in self.errors if not any(a in e for a in self.allowed_errors)]
        assert errors == []
        assert self.page.evaluate("window.__violations") == []


@pytest.fixture
def dashboard(browser, live_server, request):
    # Not counted by test_app's user_count and the built-in logins monitor: the tests
    # expect the headlines of known_data alone.
    with mute_signals(post_save, user_logged_in):
        user = StaffFactory()
        client = Client()
        client.force_login(user)
    context = browser.new_context(
        viewport=getattr(request, "param", {"width": 1400, "height": 2400}),
        locale=BROWSER_LOCALE,
        timezone_id=BROWSER_TIMEZONE,
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            },
            # The page's language is pinned too (test_app follows Accept-Language, which
            # the browser's locale sets); test_the_dashboard_in_german picks German.
            {"name": settings.LANGUAGE_COOKIE_NAME, "value": "en-us", "url": live_server.url},
        ]
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    board = Dashboard(page, live_server.url)
    yield board
    try:
        board.check_clean()
    finally:
        context.close()
        wait_until_served()


@pytest.fixture
def known_data(db):
    """Data for every test_app monitor; the built-in logins monitor stays empty."""
    for handle in monitor:
        handle.model.objects.all().delete()
    now = timezone.now()
    UserCountFactory.create_batch(3, created=now - dt.timedelta(hours=2))
    OrderCountFactory(plan="pro", value=4, created=now - dt.timedelta(hours=5))
    OrderCountFactory(plan="free", value=2, created=now - dt.timedelta(days=2))
    QueueLengthFactory(value=12, created=now - dt.timedelta(hours=3))
    QueueLengthFactory(value=7, created=now - dt.timedelta(hours=1))
    MonitorLoadAverage.add(0.75, at=now - dt.timedelta(hours=4))
    for ms in [80.0, 120.0, 450.0]:
        RequestTimeFactory(value=ms, created=now - dt.timedelta(minutes=30))
    # The orders table the demo's 'revenue' charts straight from its rows.
    Order.objects.create(placed=now - dt.timedelta(hours=5), plan="pro", total=29)
    Order.objects.create(placed=now - dt.timedelta(days=2), plan="free", total=9)


EXPECTED_HEADLINES = {
    "user_count": "3",
    "orders": "6",
    "revenue": "38",
    "queue_length": "7",
    "load_average": "0.75",
    "request_time": "450",
}


def test_every_visible_card_draws_a_chart_with_its_headline(dashboard, known_data):
    dashboard.open()
    dashboard.wait_settled(*EXPECTED_HEADLINES, "logins")
    for name, headline in EXPECTED_HEADLINES.items():
        card = dashboard.card(name)
        assert card.get_attribute("data-state") == "ready"
        shown = card.locator(".monitoring-headline-value").inner_text()
        if name == "request_time":
            # A p95 from the log-spaced histogram bins: within 5% of the exact 450 ms.
            assert float(shown) == pytest.approx(float(headline), rel=0.05)
        else:
            assert shown == headline
        dashboard.wait_drawn(name)
        assert card.locator(".monitoring-chart canvas").count() == 1
        assert dashboard.coloured_pixels(name) > 20, name
        # A legend with an entry per series, and a text summary of the chart.
        assert card.locator(".u-legend .u-series").count() >= 2
        assert card.locator(".monitoring-summary").inner_text()
    legend = dashboard.card("queue_length").locator(".u-legend").inner_text()
    assert "Average" in legend and "Min" in legend and "Max" in legend
    legend = dashboard.card("request_time").locator(".u-legend").inner_text()
    assert "p50" in legend and "p95" in legend and "p99" in legend
    legend = dashboard.card("orders").locator(".u-legend").inner_text()
    assert "pro" in legend and "free" in legend
    # A monitor without data says how to feed it.
    empty = dashboard.card("logins")
    assert empty.get_attribute("data-state") == "empty"
    assert "No data recorded yet — call monitor.get('logins').add(1)" in empty.inner_text()


def test_hovering_a_chart_shows_values_and_site_times_in_the_legend(dashboard, known_data):
    dashboard.open()
    dashboard.wait_drawn("user_count")
    card = dashboard.card("user_count")
    value = card.locator(".u-legend .u-series").nth(1).locator(".u-value")
    # Until a time is hovered, its line keeps its room but shows no lone "Time:" label.
    time_label = card.locator(".u-legend .u-series").first.locator("th")
    assert not time_label.is_visible()
    box = card.locator(".u-over").bounding_box()
    dashboard.page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    dashboard.page.wait_for_function("el => /\\d/.test(el.textContent)", arg=value.element_handle())
    assert time_label.is_visible()
    # One of the last buckets, in Berlin's clock whatever the browser's zone, on the page
    # language's clock (en: 12-hour).
    time_value = plain(card.locator(".u-legend .u-series").first.locator(".u-value").inner_text())
    data = dashboard.page.evaluate(
        "card => JSON.parse(card.querySelector('.monitoring-chart').dataset.series)",
        card.element_handle(),
    )
    last = [dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc) for ts in data["timestamps"][-2:]]
    assert any(clock(start, "en") in time_value for start in last), time_value
    if last[-1].astimezone(BROWSER_ZONE).hour != last[-1].astimezone(BERLIN).hour:
        assert not any(clock(start, "en", BROWSER_ZONE) in time_value for start in last)


def test_a_card_shows_its_loading_state_until_its_answer_comes(dashboard, known_data):
    held = []
    dashboard.page.route("**/monitoring/user_count/?*", lambda route: held.append(route))
    dashboard.open()
    dashboard.page.wait_for_selector("#monitor-user_count[data-state=loading]")
    card = dashboard.card("user_count")
    assert card.get_attribute("aria-busy") == "true"
    assert card.get_by_role("status").inner_text().strip() == "Loading…"
    dashboard.wait_drawn("orders")  # the others don't wait for it
    held[0].continue_()
    dashboard.wait_drawn("user_count")
    assert card.get_attribute("aria-busy") == "false"


def test_a_card_that_cannot_reach_the_server_says_so(dashboard, known_data):
    # user_count fetches itself; the first cards come with the page.
    dashboard.allowed_errors.append("net::ERR_FAILED")
    dashboard.page.route("**/monitoring/user_count/?*", lambda route: route.abort())
    dashboard.open()
    dashboard.page.wait_for_selector("#monitor-user_count[data-state=error]")
    assert "The server could not be reached." in dashboard.card("user_count").inner_text()
    dashboard.wait_drawn("orders")


def test_the_data_table_toggle_shows_every_bucket_in_the_site_time_zone(dashboard, known_data):
    dashboard.open("?range=24h")
    dashboard.wait_drawn("user_count")
    card = dashboard.card("user_count")
    toggle = card.locator(".monitoring-table-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    dashboard.page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    table = card.locator(".monitoring-table table")
    rows = table.locator("tbody tr")
    data = dashboard.page.evaluate(
        "card => JSON.parse(card.querySelector('.monitoring-chart').dataset.series)",
        card.element_handle(),
    )
    assert rows.count() == len(data["timestamps"])
    assert "Start (Europe/Berlin)" in table.locator("thead").inner_text()
    # Whatever the browser's zone and locale, the table shows Berlin's clock in the page's
    # language (en-us: a 12-hour clock).
    assert dashboard.page.locator("html").get_attribute("lang") == "en-us"
    first = dt.datetime.fromtimestamp(data["timestamps"][0], tz=dt.timezone.utc)
    shown = plain(rows.first.locator("th").inner_text())
    assert clock(first, "en") in shown
    early = dt.datetime(2026, 3, 2, 5, 7, tzinfo=BERLIN).timestamp()
    assert plain(
        dashboard.page.evaluate(f"djangoMonitoring.format.time({early}, 'Europe/Berlin', 'minute')")
    ).endswith(", 5:07 AM")
    assert sum(int(cell) for cell in table.locator("tbody td").all_inner_texts()) == 3
    toggle.click()
    assert card.locator(".monitoring-table").is_hidden()


def test_changing_the_range_refetches_redraws_and_goes_into_the_url(dashboard, known_data):
    dashboard.open()
    dashboard.wait_drawn("user_count")
    assert parse_qs(urlparse(dashboard.card_requests("user_count")[-1]).query)["range"] == ["7d"]
    with dashboard.page.expect_response(lambda r: "range=30d" in r.url and "user_count" in r.url):
        dashboard.page.select_option(".monitoring-range", "30d")
    dashboard.wait_drawn("user_count", times=2)
    assert "range=30d" in dashboard.page.url
    summary = dashboard.card("user_count").locator(".monitoring-summary").inner_text()
    assert "over the last 30 days" in summary
    # A shared URL opens with the same range.
    dashboard.page.goto(dashboard.page.url)
    assert dashboard.page.locator(".monitoring-range").input_value() == "30d"


def test_a_card_can_override_the_page_range(dashboard, known_data):
    dashboard.open()
    dashboard.wait_drawn("orders")
    dashboard.wait_settled(*EXPECTED_HEADLINES)
    before = {name: len(dashboard.card_requests(name)) for name in EXPECTED_HEADLINES}
    # The override sits in the card's small menu.
    menu = dashboard.card("orders").locator(".monitoring-card-menu")
    assert menu.locator(".monitoring-card-range").is_hidden()
    menu.locator("summary").click()
    with dashboard.page.expect_response(lambda r: "range=1h" in r.url):
        menu.locator(".monitoring-card-range").select_option("1h")
    # Nothing was ordered in the last hour: the card says so, and when the last order was.
    dashboard.page.wait_for_selector("#monitor-orders[data-state=empty]")
    card = dashboard.card("orders")
    assert card.locator(".monitoring-headline-value").inner_text() == "0"
    assert "No data in this range (last point:" in card.inner_text()
    assert menu.get_attribute("open") is None  # the menu closed behind the choice
    assert "cards=orders%3A1h" in dashboard.page.url
    after = {name: len(dashboard.card_requests(name)) for name in EXPECTED_HEADLINES}
    assert after["orders"] == before["orders"] + 1
    assert {k: v for k, v in after.items() if k != "orders"} == {
        k: v for k, v in before.items() if k != "orders"
    }
    # A shared URL opens with the card's own range.
    dashboard.page.goto(dashboard.page.url)
    assert dashboard.card("orders").locator(".monitoring-card-range").input_value() == "1h"
    dashboard.page.wait_for_selector("#monitor-orders[data-state=empty]")


def test_the_first_card_comes_with_the_page_and_is_drawn_without_a_request(dashboard, known_data):
    dashboard.open()
    dashboard.wait_drawn("orders")
    assert dashboard.card("orders").get_attribute("data-state") == "ready"
    assert dashboard.card("orders").locator(".monitoring-headline-value").inner_text() == "6"
    dashboard.wait_drawn("user_count")
    assert dashboard.card_requests("orders") == []
    assert len(dashboard.card_requests("user_count")) == 1
    # Its ids are its card's, as for a fetched card.
    described = (
        dashboard.card("orders").locator(".monitoring-chart").get_attribute("aria-describedby")
    )
    assert described.startswith("monitor-orders-")
    # A new range fetches it like any other card.
    with dashboard.page.expect_response(lambda r: "/monitoring/orders/" in r.url):
        dashboard.page.select_option(".monitoring-range", "30d")
    dashboard.wait_drawn("orders", times=2)


def test_the_first_card_is_drawn_once_and_without_jquery(dashboard, known_data):
    # Drawn once: cards.js, which runs after chart.js, shows the card again but keeps its
    # chart, and the other scripts still find it (markers.js through djangoMonitoring).
    dashboard.open()
    dashboard.wait_settled(*EXPECTED_HEADLINES)
    dashboard.wait_drawn("user_count")
    assert dashboard.card("orders").get_attribute("data-drawn") == "1"
    assert dashboard.card("orders").get_attribute("data-markers") == "0"
    assert dashboard.page.evaluate(
        "() => djangoMonitoring.plotOf(document.getElementById('monitor-orders')) !== null"
    )
    # Without jQuery (never fetched here) the first chart is drawn all the same: nothing on
    # its path waits for jQuery or the scripts that need it.
    dashboard.allowed_errors += ["jquery.min.js", "ERR_FAILED", "jQuery is not defined"]
    dashboard.page.route("**/jquery.min.js", lambda route: route.abort())
    dashboard.open()
    dashboard.wait_drawn("orders")
    assert dashboard.page.evaluate("() => window.jQuery === undefined")
    assert dashboard.card("user_count").get_attribute("data-state") == "idle"


@pytest.mark.parametrize("dashboard", [{"width": 1000, "height": 500}], indirect=True)
def test_cards_below_the_fold_are_fetched_only_when_scrolled_to(dashboard, known_data):
    dashboard.open()
    dashboard.wait_settled("orders")
    dashboard.page.wait_for_timeout(500)  # give a wrong eager load its chance to show
    assert dashboard.card_requests("logins") == []
    assert dashboard.card("logins").get_attribute("data-state") == "idle"
    dashboard.card("logins").scroll_into_view_if_needed()
    dashboard.wait_settled("logins")
    assert len(dashboard.card_requests("logins")) == 1


@pytest.mark.parametrize("dashboard", [{"width": 1000, "height": 500}], indirect=True)
def test_a_new_range_reaches_cards_below_the_fold_when_they_come_back(dashboard, known_data):
    dashboard.open()
    dashboard.card("logins").scroll_into_view_if_needed()
    dashboard.wait_settled("logins")
    dashboard.page.evaluate("() => window.scrollTo(0, 0)")
    # Two frames, so the IntersectionObserver has seen the card leave the viewport.
    dashboard.page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    with dashboard.page.expect_response(lambda r: "orders" in r.url and "range=90d" in r.url):
        dashboard.page.select_option(".monitoring-range", "90d")
    dashboard.page.wait_for_timeout(300)
    assert len(dashboard.card_requests("logins")) == 1
    dashboard.card("logins").scroll_into_view_if_needed()
    dashboard.page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".some(e => e.name.includes('/monitoring/logins/') && e.name.includes('range=90d'))"
    )
    dashboard.wait_settled("logins")
    summary = dashboard.card("logins").locator(".monitoring-summary").inner_text()
    assert "over the last 90 days" in summary


def test_auto_refresh_refetches_and_pauses_while_hidden(dashboard, known_data):
    page = dashboard.page
    page.clock.install()
    dashboard.open()
    # Nothing in flight before the fake clock jumps, or the jump would time requests out.
    for name in EXPECTED_HEADLINES:
        dashboard.wait_drawn(name)
    page.select_option(".monitoring-refresh", "30")
    assert "refresh=30" in page.url
    count = len(dashboard.card_requests("user_count"))

    with page.expect_response(lambda r: "/monitoring/user_count/" in r.url):
        page.clock.run_for(31_000)
    for name in EXPECTED_HEADLINES:
        dashboard.wait_drawn(name, times=2)
    assert len(dashboard.card_requests("user_count")) == count + 1

    # Hidden tab: the timer fires but nothing is fetched until the tab is back.
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'));"
    )
    page.clock.run_for(65_000)
    page.wait_for_timeout(300)
    assert len(dashboard.card_requests("user_count")) == count + 1
    with page.expect_response(lambda r: "/monitoring/user_count/" in r.url):
        page.evaluate(
            "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
            "document.dispatchEvent(new Event('visibilitychange'));"
        )
    dashboard.wait_drawn("user_count", times=3)
    assert len(dashboard.card_requests("user_count")) == count + 2
    # Every redraw let go of the chart it replaced.
    dashboard.wait_settled(*EXPECTED_HEADLINES)
    for name in EXPECTED_HEADLINES:
        dashboard.wait_drawn(name, times=3)
    charts = page.locator(".monitoring-chart .uplot").count()
    assert charts == len(EXPECTED_HEADLINES)
    assert page.evaluate("() => window.__observed.size") == charts


class BrokenView(ValueView):
    def get_series(self, handle, query):
        raise RuntimeError("the storage is on fire")


def test_a_failing_monitor_shows_its_error_while_the_others_render(dashboard, known_data):
    monitor.unregister("load_average")
    monitor.register(
        "broken", BrokenView.as_view(model=MonitorLoadAverage), title="Broken", category="System"
    )
    dashboard.allowed_errors.append("status of 500")
    dashboard.open()
    card = dashboard.card("broken")
    dashboard.page.wait_for_selector("#monitor-broken[data-state=error]")
    assert card.get_by_role("alert").inner_text().startswith("This chart could not be loaded.")
    assert "HTTP 500" in card.inner_text()
    for name in ["user_count", "orders", "queue_length", "request_time"]:
        dashboard.wait_drawn(name)
        assert dashboard.card(name).get_attribute("data-state") == "ready"
    # Try again asks once more, and fails the same way.
    with dashboard.page.expect_response(lambda r: "/monitoring/broken/" in r.url):
        card.get_by_role("button", name="Try again").click()
    dashboard.page.wait_for_selector("#monitor-broken[data-state=error]")
    assert len(dashboard.card_requests("broken")) == 2


def test_the_page_works_under_a_strict_content_security_policy(dashboard, known_data):
    response = dashboard.open()
    assert response.headers["content-security-policy"] == "default-src 'self'"
    dashboard.wait_settled(*EXPECTED_HEADLINES)
    for name in EXPECTED_HEADLINES:
        dashboard.wait_drawn(name)
    assert dashboard.page.evaluate("window.__violations") == []
    # Nothing came from another origin.
    assert all(url.startswith(dashboard.base_url) for url in dashboard.requests)
    # Our scripts add one global, the parts they share; the libraries theirs.
    added = dashboard.page.evaluate(
        "() => Object.keys(window).filter(k => !window.__globals.includes(k))"
    )
    assert set(added) == {
        *("jQuery", "$", "uPlot", "djangoMonitoring"),
        *("__globals", "__observed", "__violations"),
    }


def test_dark_mode_follows_the_system(dashboard, known_data):
    dashboard.page.emulate_media(color_scheme="dark")
    dashboard.open()
    dashboard.wait_drawn("user_count")
    background = dashboard.card("user_count").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(21, 27, 35)"
    dashboard.page.emulate_media(color_scheme="light")
    background = dashboard.card("user_count").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    dashboard.wait_drawn("user_count", times=2)  # redrawn in the light colours


def test_the_dashboard_in_german(dashboard, known_data):
    dashboard.speak("de")
    # The scripts' own messages come translated from the page too.
    dashboard.allowed_errors.append("net::ERR_FAILED")
    dashboard.page.route("**/monitoring/user_count/?*", lambda route: route.abort())
    dashboard.open("?range=24h")
    page = dashboard.page
    page.wait_for_selector("#monitor-user_count[data-state=error]")
    error = dashboard.card("user_count").get_by_role("alert")
    assert error.inner_text().startswith("Dieses Diagramm konnte nicht geladen werden.")
    assert "Der Server war nicht erreichbar." in error.inner_text()
    assert error.get_by_role("button").inner_text() == "Erneut versuchen"
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Zeitraum" in page.locator(".monitoring-toolbar").inner_text()
    assert page.locator(".monitoring-range option:checked").inner_text() == "Letzte 24 Stunden"
    dashboard.wait_drawn("load_average")
    dashboard.wait_drawn("queue_length")
    # Numbers: a decimal comma.
    load = dashboard.card("load_average")
    assert load.locator(".monitoring-headline-value").inner_text() == "0,75"
    assert load.locator(".monitoring-headline-label").inner_text() == "zuletzt"
    legend = dashboard.card("queue_length").locator(".u-legend").inner_text()
    assert "Durchschnitt" in legend and "Min." in legend and "Max." in legend
    # Times: Berlin's 24-hour clock in the legend, the table and the summary.
    card = dashboard.card("queue_length")
    box = card.locator(".u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    time_cell = card.locator(".u-legend .u-series").first.locator(".u-value")
    page.wait_for_function("el => /\\d/.test(el.textContent)", arg=time_cell.element_handle())
    shown = plain(time_cell.inner_text())
    data = page.evaluate(
        "card => JSON.parse(card.querySelector('.monitoring-chart').dataset.series)",
        card.element_handle(),
    )
    last = [dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc) for ts in data["timestamps"][-2:]]
    assert any(clock(start, "de") in shown for start in last), shown
    assert "AM" not in shown and "PM" not in shown
    toggle = card.locator(".monitoring-table-toggle")
    assert toggle.inner_text() == "Datentabelle zeigen"
    toggle.click()
    assert toggle.inner_text() == "Datentabelle ausblenden"
    table = card.locator(".monitoring-table table")
    assert "Beginn (Europe/Berlin)" in table.locator("thead").inner_text()
    assert "Durchschnitt" in table.locator("thead").inner_text()
    first = dt.datetime.fromtimestamp(data["timestamps"][0], tz=dt.timezone.utc)
    assert clock(first, "de") in plain(table.locator("tbody tr").first.locator("th").inner_text())
    # Two-digit hours at any hour, next to a date too (Intl alone writes "5:07" there).
    early = dt.datetime(2026, 3, 2, 5, 7, tzinfo=BERLIN).timestamp()
    assert plain(
        page.evaluate(f"djangoMonitoring.format.time({early}, 'Europe/Berlin', 'minute')")
    ).endswith(" 05:07")
    assert page.evaluate(f"djangoMonitoring.format.axis({early}, 'Europe/Berlin', 3600)") == "05:07"
    summary = plain(card.locator(".monitoring-summary").inner_text())
    assert summary.startswith("Queue length: zuletzt 7 jobs in den letzten 24 Stunden")
    peak = plain(card.locator(".monitoring-summary time").last.inner_text())
    assert re.search(r"\b\d{2}:\d{2}\b", peak) and "M" not in peak.split()[-1], peak
    # The group of the values outside the top N, in the legend and the table.
    page.goto(f"{dashboard.base_url}/monitoring/orders/?range=7d&split=plan&top=1")
    dashboard.wait_drawn("orders")
    orders = dashboard.card("orders")
    assert orders.locator(".u-legend .u-series .u-label").all_inner_texts()[1:] == [
        "pro",
        "andere",
    ]
    assert "andere Summe" in orders.locator(".monitoring-table thead").inner_text()


def test_the_page_of_a_monitor_zooms_by_dragging_and_keeps_it_in_the_url(dashboard, known_data):
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/monitoring/user_count/?range=24h")
    dashboard.wait_drawn("user_count")
    card = dashboard.card("user_count")
    # The page shows its table and a link back to the dashboard.
    assert card.locator(".monitoring-table table").is_visible()
    assert page.locator(".monitoring-back").get_attribute("href") == "/monitoring/?range=24h"
    box = card.locator(".u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    with page.expect_response(lambda r: "/monitoring/user_count/" in r.url and "start=" in r.url):
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 1, y, steps=5)
        page.mouse.up()
    dashboard.wait_drawn("user_count", times=2)
    query = parse_qs(urlparse(page.url).query)
    assert "range" not in query
    start = dt.datetime.fromisoformat(query["start"][0].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(query["end"][0].replace("Z", "+00:00"))
    now = timezone.now()
    # The last 12 of the last 24 hours (the users came 2 hours ago). The chart's x axis
    # ends at the start of the last 15-minute bucket, up to a bucket before now, and a
    # pixel is a few minutes: give or take two buckets, whatever the time of day.
    assert abs((start - (now - dt.timedelta(hours=12))).total_seconds()) < 2 * 15 * 60
    assert abs((end - now).total_seconds()) < 2 * 15 * 60
    data = page.evaluate(
        "card => JSON.parse(card.querySelector('.monitoring-chart').dataset.series)",
        card.element_handle(),
    )
    assert data["range"] is None
    # The first bucket holds the zoom's start (12 hours: 15-minute buckets).
    assert data["resolution"] == "15min"
    assert 0 <= start.timestamp() - data["timestamps"][0] < 15 * 60
    # The picker shows the zoomed span in Berlin's wall-clock time.
    shown = page.locator(".monitoring-start").input_value()
    assert shown == f"{start.astimezone(BERLIN):%Y-%m-%dT%H:%M}"
    assert page.locator(".monitoring-detail-range").input_value() == ""


def test_the_picker_of_a_monitor_page_sets_start_and_end(dashboard, known_data):
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/monitoring/orders/?range=7d")
    dashboard.wait_drawn("orders")
    page.locator(".monitoring-start").fill("2026-03-10T08:00")
    page.locator(".monitoring-end").fill("2026-03-12T20:30")
    assert page.locator(".monitoring-detail-range").input_value() == ""
    page.locator(".monitoring-detail-controls select[name=split]").select_option("none")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    query = parse_qs(urlparse(page.url).query)
    assert query == {
        "start": ["2026-03-10T08:00"],
        "end": ["2026-03-12T20:30"],
        "split": ["none"],
        "top": ["5"],
    }
    dashboard.wait_settled("orders")
    card = dashboard.card("orders")
    assert card.get_attribute("data-state") == "empty"  # nothing was ordered back then
    assert "2026-03-10T08:00:00+01:00" in card.locator(".monitoring-summary").inner_html()


def test_split_counts_are_stacked_bars(dashboard, known_data):
    # Two plans in the same hour: pro 4 (known_data) and free 2. Stacked, the column is
    # 2 + 4 = 6 tall, with pro's band on top of free's; drawn over each other it would
    # be only 4 tall, the smaller bar hidden in the larger one.
    OrderCountFactory(plan="free", value=2, created=timezone.now() - dt.timedelta(hours=5))
    dashboard.open("?range=24h")
    dashboard.wait_drawn("orders")
    column = dashboard.card("orders").evaluate(
        """card => {
            const u = window.djangoMonitoring.plotOf(card);
            // The bucket where both plans ordered: every series has a value there.
            const idx = u.data[1].findIndex((v, i) => v && u.data[2][i]);
            const left = Math.round(u.valToPos(u.data[0][idx], 'x', true));
            const canvas = card.querySelector('.monitoring-chart canvas');
            const {width, height} = canvas;
            const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
            // The highest pixel painted in the bar's colours near the bucket's x.
            let top = height;
            for (let x = Math.max(0, left - 3); x <= Math.min(width - 1, left + 3); x++) {
                for (let y = 0; y < height; y++) {
                    const i = (y * width + x) * 4;
                    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
                    if (b > r + 60 || (r > b + 60 && g > b)) { top = Math.min(top, y); break; }
                }
            }
            return {
                tops: [u.data[1][idx], u.data[2][idx]],
                drawnTop: top,
                sumTop: u.valToPos(6, 'y', true),
                tallestTop: u.valToPos(4, 'y', true),
                ymax: u.scales.y.max,
            };
        }"""
    )
    # Each series holds its own value plus those of the groups under it.
    assert column["tops"] == [6, 2]
    assert column["ymax"] >= 6
    # The drawn column reaches the sum, well above where a lone bar of 4 would end.
    assert abs(column["drawnTop"] - column["sumTop"]) <= 3, column
    assert column["tallestTop"] - column["drawnTop"] > 10, column
    # The legend lists the groups as they rank: pro (4) before free (2).
    labels = dashboard.card("orders").locator(".u-legend .u-series .u-label").all_inner_texts()
    assert labels[1:] == ["pro", "free"]


def test_hovering_one_chart_shows_the_same_moment_on_the_others(dashboard, known_data):
    dashboard.open("?range=24h")
    dashboard.wait_drawn("queue_length")
    dashboard.wait_drawn("request_time")
    source = dashboard.card("queue_length")
    box = source.locator(".u-over").bounding_box()
    dashboard.page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)

    def hovered_time(name):
        return dashboard.card(name).locator(".u-legend .u-series").first.locator(".u-value")

    dashboard.page.wait_for_function(
        "el => /\\d/.test(el.textContent)", arg=hovered_time("request_time").element_handle()
    )
    assert hovered_time("request_time").inner_text() == hovered_time("queue_length").inner_text()


def test_an_aborted_request_never_shows_an_error(dashboard, known_data):
    held = []
    dashboard.page.route(
        "**/monitoring/user_count/?*",
        lambda route: held.append(route) if not held else route.continue_(),
    )
    dashboard.page.add_init_script(
        # Every state a card passed through: records are read later, so old values count.
        "window.__states = [];"
        "new MutationObserver(records => records.forEach(r => window.__states.push("
        "r.target.id + '=' + r.oldValue, r.target.id + '=' + r.target.getAttribute('data-state'))))"
        ".observe(document, {subtree: true, attributes: true, attributeOldValue: true,"
        " attributeFilter: ['data-state']});"
    )
    dashboard.open()
    dashboard.page.wait_for_selector("#monitor-user_count[data-state=loading]")
    # A new range aborts the request still under way and asks again.
    dashboard.page.select_option(".monitoring-range", "30d")
    dashboard.wait_drawn("user_count")
    held[0].continue_()
    dashboard.page.wait_for_timeout(200)
    states = dashboard.page.evaluate("window.__states")
    assert "monitor-user_count=error" not in states
    assert dashboard.card("user_count").get_attribute("data-state") == "ready"


@pytest.mark.parametrize("dashboard", [{"width": 360, "height": 740}], indirect=True)
def test_a_phone_of_360_px_never_scrolls_sideways(dashboard, known_data):
    dashboard.open()
    dashboard.wait_drawn("orders")
    assert dashboard.page.evaluate("document.documentElement.scrollWidth") <= 360
    box = dashboard.card("orders").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360


@pytest.mark.parametrize(
    "dashboard", [{"width": 1400, "height": 2400}, {"width": 390, "height": 2400}], indirect=True
)
def test_legends_show_every_label_whole_hovered_or_not(dashboard, known_data):
    dashboard.open()
    dashboard.wait_settled(*EXPECTED_HEADLINES)
    for name in EXPECTED_HEADLINES:
        dashboard.wait_drawn(name)

    def clipped(name):
        # A label or value cut off shows as a legend (or one of its entries) wider inside
        # than it is shown.
        return dashboard.card(name).evaluate(
            """card => [card.querySelector('.u-legend'),
                        ...card.querySelectorAll('.u-legend .u-series')]
                .filter(el => el.scrollWidth > el.clientWidth + 1)
                .map(el => el.textContent.trim() + ': ' + el.scrollWidth + '>' + el.clientWidth)"""
        )

    for name in EXPECTED_HEADLINES:
        assert clipped(name) == [], name
    # Hovered, with the time and every value filled in: the gauge with the longest labels.
    card = dashboard.card("queue_length")
    box = card.locator(".u-over").bounding_box()
    height = card.bounding_box()["height"]
    dashboard.page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    time = card.locator(".u-legend .u-series").first.locator(".u-value")
    dashboard.page.wait_for_function("el => /\\d/.test(el.textContent)", arg=time.element_handle())
    assert clipped("queue_length") == []
    assert card.bounding_box()["height"] == height


@pytest.mark.parametrize("dashboard", [{"width": 1440, "height": 900}], indirect=True)
def test_two_rows_of_cards_fit_above_the_fold_and_hover_does_not_move_them(dashboard, known_data):
    dashboard.open()
    dashboard.wait_settled(*EXPECTED_HEADLINES)
    dashboard.wait_drawn("request_time")
    tops = sorted({round(dashboard.card(name).bounding_box()["y"]) for name in EXPECTED_HEADLINES})
    bottoms = {
        name: dashboard.card(name).bounding_box()["y"]
        + dashboard.card(name).bounding_box()["height"]
        for name in ["orders", "queue_length", "load_average", "request_time"]
    }
    assert len(tops) >= 2 and max(bottoms.values()) <= 900, bottoms
    # Hovering fills in the legend without changing the card's size.
    card = dashboard.card("request_time")
    before = card.bounding_box()["height"]
    box = card.locator(".u-over").bounding_box()
    # Over the bucket with the timings: the last one may be empty, depending on the hour.
    x = card.evaluate(
        """card => {
            const plot = djangoMonitoring.plotOf(card);
            const filled = plot.data[1].map((v, i) => v === null ? -1 : i).filter(i => i >= 0);
            return plot.valToPos(plot.data[0][filled[filled.length - 1]], 'x');
        }"""
    )
    # Inside the plot: the last bucket sits on its right edge, where the cursor leaves it.
    dashboard.page.mouse.move(box["x"] + min(x, box["width"] - 2), box["y"] + box["height"] / 2)
    value = card.locator(".u-legend .u-series").nth(1).locator(".u-value")
    dashboard.page.wait_for_function("el => /\\d/.test(el.textContent)", arg=value.element_handle())
    assert card.bounding_box()["height"] == before
    # No placeholder dashes, hovered or not.
    assert "–" not in card.locator(".u-legend").inner_text()
    assert "--" not in dashboard.card("orders").locator(".u-legend").inner_text()


def contrast(foreground, background):
    def luminance(rgb):
        channels = []
        for value in rgb:
            c = value / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_dark_mode_on_a_site_base_template_keeps_text_readable(
    dashboard, known_data, settings, tmp_path
):
    # A site's own base: a dark page of its own, none of our standalone body styles.
    (tmp_path / "site_base.html").write_text(
        "<!DOCTYPE html><html><head><meta name='color-scheme' content='light dark'>"
        "{% block monitoring_head %}{% endblock %}</head>"
        "<body>{% block main %}{% endblock %}{% block monitoring_scripts %}{% endblock %}"
        "</body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    settings.MONITORING_BASE_TEMPLATE = "site_base.html"
    dashboard.allowed_errors.append("404 (Not Found)")  # the site has no favicon
    dashboard.page.emulate_media(color_scheme="dark")
    dashboard.open()
    dashboard.wait_drawn("orders")
    pairs = dashboard.page.evaluate(
        """() => {
            const rgb = c => c.match(/\\d+/g).slice(0, 3).map(Number);
            const bg = el => {
                for (; el; el = el.parentElement) {
                    const c = getComputedStyle(el).backgroundColor;
                    if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return rgb(c);
                }
                return [255, 255, 255];
            };
            const selectors = ['h1', 'h2', '.monitoring-card-title', '.monitoring-headline-value',
                               '.monitoring-description', '.monitoring-timezone'];
            return selectors.map(s => {
                const el = document.querySelector(s);
                return [s, rgb(getComputedStyle(el).color), bg(el)];
            });
        }"""
    )
    for selector, foreground, background in pairs:
        assert contrast(foreground, background) >= 4.5, (selector, foreground, background)


def test_the_admin_links_to_the_dashboard_and_shows_live_cards(dashboard, known_data):
    page = dashboard.page
    dashboard.allowed_errors.append("404 (Not Found)")  # the admin asks for /favicon.ico
    page.goto(f"{dashboard.base_url}/admin/")
    module = page.locator("#monitoring-admin-module")
    # The first two monitors in dashboard order, drawn live inside the admin index.
    first, second = [handle.name for handle in monitor][:2]
    for name in (first, second):
        page.wait_for_selector(f"#monitoring-admin-module #monitor-{name}[data-drawn='1'] canvas")
    assert module.locator(".monitoring-card").count() == 2
    with page.expect_navigation():
        page.locator("#user-tools .monitoring-admin-link").click()
    assert urlparse(page.url).path == "/monitoring/"
    dashboard.wait_drawn("user_count")


def test_a_card_embedded_in_a_plain_page_is_for_staff_only(
    dashboard, known_data, settings, browser
):
    settings.ROOT_URLCONF = "tests.urls_embed"
    dashboard.allowed_errors.append("404 (Not Found)")  # the page has no favicon
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/staff-page/")
    dashboard.wait_drawn("user_count")
    card = dashboard.card("user_count")
    assert card.locator(".monitoring-headline-value").inner_text() == "3"
    assert card.locator(".monitoring-card-title a").get_attribute("href") == (
        "/monitoring/user_count/?range=24h"
    )
    # Somebody else, not logged in: the page, without the card or its scripts.
    other = browser.new_context(locale=BROWSER_LOCALE, timezone_id=BROWSER_TIMEZONE)
    anonymous = other.new_page()
    anonymous.goto(f"{dashboard.base_url}/staff-page/")
    assert anonymous.locator("h1").inner_text() == "Our staff page"
    assert anonymous.locator(".monitoring-card").count() == 0
    assert anonymous.locator("script").count() == 0
    other.close()


def test_two_cards_of_one_monitor_on_a_page_have_ids_of_their_own(dashboard, known_data, settings):
    settings.ROOT_URLCONF = "tests.urls_embed"
    dashboard.allowed_errors.append("404 (Not Found)")  # the page has no favicon
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/staff-page-twice/")
    dashboard.wait_drawn("user_count")
    page.wait_for_selector("#monitor-user_count-2[data-drawn='1'] .monitoring-chart canvas")
    ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), sorted(ids)
    # Each card's chart is described by its own summary, and its toggle opens its own table.
    for card_id, range_text in [
        ("monitor-user_count", "24 hours"),
        ("monitor-user_count-2", "7 days"),
    ]:
        card = page.locator(f"#{card_id}")
        described = card.locator(".monitoring-chart").get_attribute("aria-describedby")
        assert card.locator(f"#{described}").count() == 1
        assert range_text in card.locator(f"#{described}").text_content()
        card.locator(".monitoring-table-toggle").click()
        controlled = card.locator(".monitoring-table-toggle").get_attribute("aria-controls")
        assert card.locator(f"#{controlled}").is_visible()
        assert card.locator(f"#{controlled} table").count() == 1


def test_charts_take_any_css_colour(dashboard, known_data, settings, tmp_path):
    # rgb() and 3-digit hex, which an alpha suffix glued to the value would break.
    (tmp_path / "site_base.html").write_text(
        "{% load static %}<!DOCTYPE html><html><head>"
        "{% block monitoring_head %}{% endblock %}"
        "<link rel='stylesheet' href='{% static \"test_app/colours.css\" %}'></head>"
        "<body>{% block main %}{% endblock %}{% block monitoring_scripts %}{% endblock %}"
        "</body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    settings.MONITORING_BASE_TEMPLATE = "site_base.html"
    dashboard.allowed_errors.append("404 (Not Found)")  # the site has no favicon
    dashboard.open("?range=7d")
    dashboard.wait_drawn("orders")
    dashboard.wait_drawn("queue_length")
    # The bars in the site's blue, and the gauge's band in a translucent version of it.
    pixels = dashboard.card("orders").evaluate(
        """card => {
            const canvas = card.querySelector('.monitoring-chart canvas');
            const data = canvas.getContext('2d').getImageData(
                0, 0, canvas.width, canvas.height).data;
            let blue = 0, orange = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
                if (b > 150 && r < 80) blue++;
                if (r > 150 && b < 80 && g > 60) orange++;
            }
            return [blue, orange];
        }"""
    )
    assert pixels[0] > 20 and pixels[1] > 20, pixels
    assert dashboard.coloured_pixels("queue_length") > 20
