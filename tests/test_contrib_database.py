"""monitoring.contrib.database: queries and time in queries per request."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from monitoring.contrib.database.middleware import QueryMiddleware
from monitoring.contrib.database.models import QueriesPerRequest, QueryTimePerRequest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_contrib")]


def test_a_request_s_queries_are_counted_and_timed(client):
    assert client.get("/queries/").content == b"0"
    assert client.get("/ok/").status_code == 200
    assert sorted(row.value for row in QueriesPerRequest.objects.all()) == [0, 3]
    times = sorted(row.value for row in QueryTimePerRequest.objects.all())
    assert times[0] == 0 and times[1] > 0


def test_the_wrappers_are_gone_after_the_request(client):
    client.get("/queries/")
    assert connection.execute_wrappers == []


def test_the_monitoring_urls_and_skipped_paths_are_not_recorded(staff_client):
    staff_client.get("/monitoring/")
    with override_settings(MONITORING_REQUESTS_SKIP=[r"/queries/"]):
        from django.test import Client

        Client().get("/queries/")
    assert QueriesPerRequest.objects.count() == 0


def test_without_the_app_the_middleware_says_what_to_install(monkeypatch):
    from django.apps import apps

    monkeypatch.setattr(apps, "is_installed", lambda name: False)
    with pytest.raises(ImproperlyConfigured, match="'monitoring.contrib.database'"):
        QueryMiddleware(lambda request: None)


def test_the_app_without_its_middleware_is_a_warning(settings):
    def ids(**settings_):
        with override_settings(**settings_):
            return [m.id for m in run_checks() if m.id == "monitoring.W021"]

    assert ids() == []
    middleware = [m for m in settings.MIDDLEWARE if "QueryMiddleware" not in m]
    assert ids(MIDDLEWARE=middleware) == ["monitoring.W021"]
