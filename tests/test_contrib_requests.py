"""monitoring.contrib.requests: MonitoringMiddleware and the exception counter."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import AsyncClient, Client, override_settings

from monitoring.contrib.requests import middleware
from monitoring.contrib.requests.middleware import MonitoringMiddleware, status_class
from monitoring.contrib.requests.models import RequestCount, RequestException, RequestLatency
from monitoring.contrib.requests.signals import exception_name
from monitoring.register import monitor

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_contrib")]


def counts():
    return sorted((row.method, row.status_class, row.value) for row in RequestCount.objects.all())


def views():
    return sorted(row.view for row in RequestLatency.objects.all())


def test_each_request_is_counted_by_method_and_status_class(client):
    client.get("/ok/")
    client.post("/ok/")
    client.get("/missing/")
    client.generic("BREW", "/ok/")
    assert counts() == [
        ("GET", "2xx", 1),
        ("GET", "4xx", 1),
        ("POST", "2xx", 1),
        ("other", "2xx", 1),
    ]


def test_each_request_is_timed_by_view_name(client, monkeypatch):
    # A clock that moves 2.5 ms between the middleware's two readings of it.
    ticks = iter(x * 0.0025 for x in range(100))
    monkeypatch.setattr(middleware, "perf_counter", lambda: next(ticks))
    client.get("/ok/")
    client.get("/missing/")
    client.get("/no/such/path/")
    assert views() == ["", "missing", "ok"]
    assert [row.value for row in RequestLatency.objects.all()] == pytest.approx([2.5, 2.5, 2.5])


def test_view_names_can_be_turned_off():
    with override_settings(MONITORING_REQUESTS_VIEW_NAMES=False):
        Client().get("/ok/")
    assert views() == [""]


def test_an_unhandled_exception_is_counted_by_class():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert [(r.exception, r.value) for r in RequestException.objects.all()] == [("ValueError", 1)]
    assert counts() == [("GET", "5xx", 1)]


def test_http_404_is_not_an_unhandled_exception(client):
    client.get("/missing/")
    assert RequestException.objects.count() == 0


def test_the_monitoring_urls_are_not_recorded(staff_client):
    assert staff_client.get("/monitoring/").status_code == 200
    assert staff_client.get("/monitoring/requests/?format=json").status_code == 200
    assert RequestCount.objects.count() == 0
    assert RequestLatency.objects.count() == 0


def test_paths_matching_the_skip_setting_are_not_recorded():
    with override_settings(MONITORING_REQUESTS_SKIP=[r"/health/$", r"/static/"]):
        client = Client()
        client.get("/health/")
        client.get("/ok/")
    assert counts() == [("GET", "2xx", 1)]
    assert views() == ["ok"]


def test_async_requests_are_counted():
    # async_to_sync: the sync parts run back in this thread, on the test's connection.
    async def fetch():
        return await AsyncClient().get("/async/")

    assert async_to_sync(fetch)().status_code == 200
    assert counts() == [("GET", "2xx", 1)]
    assert views() == ["ok-async"]


@pytest.mark.django_db(transaction=True)
def test_an_all_async_chain_runs_the_middleware_s_async_path(buffered, monkeypatch):
    calls = []
    real = MonitoringMiddleware.__acall__

    async def spy(self, request):
        calls.append(request.path)
        return await real(self, request)

    monkeypatch.setattr(MonitoringMiddleware, "__acall__", spy)

    async def fetch():
        return await AsyncClient().get("/async/")

    with override_settings(
        MIDDLEWARE=["monitoring.contrib.requests.middleware.MonitoringMiddleware"]
    ):
        assert async_to_sync(fetch)().status_code == 200
    assert calls == ["/async/"]
    buffered.flush()
    assert counts() == [("GET", "2xx", 1)]
    assert views() == ["ok-async"]


def test_the_middleware_is_sync_and_async_capable():
    async def get_response(request):
        return None

    assert MonitoringMiddleware.sync_capable and MonitoringMiddleware.async_capable
    from asgiref.sync import iscoroutinefunction

    assert iscoroutinefunction(MonitoringMiddleware(get_response))
    assert not iscoroutinefunction(MonitoringMiddleware(lambda request: None))


def test_the_monitors_are_in_their_own_category():
    for name in ["requests", "request_latency", "request_exceptions"]:
        assert monitor.get(name).category == "Requests"
    assert monitor.get("request_latency").kind == "duration"


def test_without_the_app_the_middleware_says_what_to_install(monkeypatch):
    from django.apps import apps

    monkeypatch.setattr(apps, "is_installed", lambda name: False)
    with pytest.raises(ImproperlyConfigured, match="'monitoring.contrib.requests'"):
        MonitoringMiddleware(lambda request: None)


@pytest.mark.parametrize(
    ("status", "expected"), [(200, "2xx"), (301, "3xx"), (404, "4xx"), (503, "5xx"), (99, "other")]
)
def test_status_class(status, expected):
    assert status_class(status) == expected


def test_exception_names_are_qualified_outside_builtins():
    class Local(Exception):
        pass

    assert exception_name(KeyError()) == "KeyError"
    assert exception_name(Local()).endswith(
        "test_exception_names_are_qualified_outside_builtins.<locals>.Local"
    )
    assert exception_name(None) == "unknown"


def test_a_point_that_cannot_be_added_never_breaks_the_request(client, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(middleware.storage, "record_points", refuse)
    assert client.get("/ok/").status_code == 200
    assert "Could not record the request to /ok/" in caplog.text


def test_each_skip_pattern_is_compiled_on_its_own():
    # Joined into one expression, the second pattern's global flag would not compile.
    with override_settings(MONITORING_REQUESTS_SKIP=[r"/a", r"(?i)/HEALTH/"]):
        client = Client()
        client.get("/health/")
        client.get("/ok/")
    assert views() == ["ok"]


def test_both_middleware_decide_once_per_request_whether_to_skip_it(monkeypatch):
    calls = []

    class Counting:
        def match(self, path):
            calls.append(path)
            return None

    monkeypatch.setattr(middleware, "skip_patterns", lambda: [Counting()])
    from monitoring.contrib.database import middleware as database

    monkeypatch.setattr(database, "skip_patterns", lambda: [Counting()])
    Client().get("/ok/")  # test_app has both middleware
    assert calls == ["/ok/"]
    assert views() == ["ok"]


def check_ids(**settings_):
    with override_settings(**settings_):
        return sorted(m.id for m in run_checks() if m.id in {"monitoring.W020", "monitoring.E022"})


def test_the_app_without_its_middleware_is_a_warning(settings):
    assert check_ids() == []
    middleware = [m for m in settings.MIDDLEWARE if "MonitoringMiddleware" not in m]
    assert check_ids(MIDDLEWARE=middleware) == ["monitoring.W020"]


@pytest.mark.parametrize("skip", ["/health/", ["("], [3]])
def test_bad_skip_patterns_are_an_error(skip):
    assert check_ids(MONITORING_REQUESTS_SKIP=skip) == ["monitoring.E022"]
