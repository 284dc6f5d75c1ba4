"""monitoring.contrib.database: queries and time in queries per request."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import AsyncClient, Client, override_settings

from monitoring.contrib.database.middleware import QueryMiddleware
from monitoring.contrib.database.models import QueriesPerRequest, QueryTimePerRequest
from monitoring.contrib.requests.middleware import MonitoringMiddleware
from monitoring.contrib.requests.models import RequestCount
from monitoring.contrib.skip import DATABASE_MIDDLEWARE, REQUESTS_MIDDLEWARE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_contrib")]


def test_a_request_s_queries_are_counted_and_timed(client):
    assert client.get("/queries/").content == b"0"
    assert client.get("/ok/").status_code == 200
    assert sorted(row.value for row in QueriesPerRequest.objects.all()) == [0, 3]
    times = sorted(row.value for row in QueryTimePerRequest.objects.all())
    assert times[0] == 0 and times[1] > 0


def queries():
    return sorted(row.value for row in QueriesPerRequest.objects.all())


def test_with_the_request_middleware_it_counts_and_this_one_leaves_the_chain(monkeypatch):
    def not_called(self, request):
        raise AssertionError("QueryMiddleware is in the chain")

    monkeypatch.setattr(QueryMiddleware, "__call__", not_called)
    # test_app's order: MonitoringMiddleware first, QueryMiddleware last.
    assert Client().get("/queries/").content == b"0"
    assert queries() == [3]
    assert RequestCount.objects.count() == 1


class SiteMonitoring(MonitoringMiddleware):
    """A project's own request middleware, listed under its own name."""


def test_a_subclass_under_its_own_name_leaves_the_counting_to_query_middleware():
    with override_settings(
        MIDDLEWARE=["tests.test_contrib_database.SiteMonitoring", DATABASE_MIDDLEWARE]
    ):
        Client().get("/queries/")
    assert queries() == [3]
    assert RequestCount.objects.count() == 1


def test_on_its_own_it_counts_the_queries_below_it():
    with override_settings(MIDDLEWARE=[DATABASE_MIDDLEWARE]):
        assert Client().get("/queries/").content == b"0"
        Client().get("/ok/")
    assert queries() == [0, 3]
    assert RequestCount.objects.count() == 0


def test_without_it_the_request_middleware_counts_no_query():
    with override_settings(MIDDLEWARE=[REQUESTS_MIDDLEWARE]):
        assert Client().get("/queries/").content == b"0"
    assert QueriesPerRequest.objects.count() == 0
    assert RequestCount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_async_view_s_queries_are_counted_in_an_all_async_chain(buffered):
    # QueryMiddleware is sync-only; it leaves the chain, so the chain stays async, and
    # the view's queries, run by sync_to_async in another thread, add to the request's
    # tally through its copied context.
    async def fetch():
        return await AsyncClient().get("/queries-async/")

    with override_settings(MIDDLEWARE=[REQUESTS_MIDDLEWARE, DATABASE_MIDDLEWARE]):
        assert async_to_sync(fetch)().content == b"0"
    buffered.flush()
    assert queries() == [3]
    assert QueryTimePerRequest.objects.get().value > 0


def test_queries_outside_requests_are_not_counted_and_the_wrapper_is_added_once(client):
    from monitoring.contrib.database.tally import count as _count

    for _ in range(3):
        client.get("/queries/")
    assert connection.execute_wrappers.count(_count) == 1
    with connection.execute_wrapper(lambda execute, *args: execute(*args)):
        client.get("/queries/")  # Django's own wrapper context leaves ours in place
    assert connection.execute_wrappers == [_count]
    list(QueriesPerRequest.objects.all())  # no request runs: nothing to count it in
    assert sorted(row.value for row in QueriesPerRequest.objects.all()) == [3, 3, 3, 3]


@pytest.mark.django_db(transaction=True)
def test_connections_made_after_the_middleware_started_count_too(client):
    import threading

    from django.db import connections
    from django.test import Client

    client.get("/ok/")  # the middleware starts with this thread's connection
    connection.close()
    client.get("/queries/")  # a new connection of the same object
    values = []

    def in_a_new_thread():
        try:
            values.append(Client().get("/queries/").content)
        finally:
            connections.close_all()

    thread = threading.Thread(target=in_a_new_thread)
    thread.start()
    thread.join(30)
    assert values == [b"0"]
    assert sorted(row.value for row in QueriesPerRequest.objects.all()) == [0, 3, 3]


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
