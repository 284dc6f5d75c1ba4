"""``/monitoring/health``: 200 or 503, its checks, and who may read what."""

import datetime as dt
import json
import re

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from monitoring.alerts import Rule, evaluate
from monitoring.register import monitor
from monitoring.views.health import health_report, health_view

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-health-token"
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=dt.timezone.utc)
URL = "/monitoring/health"


@pytest.fixture(autouse=True)
def _own_rules(settings):
    monitor._alerts = {}
    settings.MONITORING_ALERT_EMAILS = ["ops@example.com"]


def get(client, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(URL, **headers)


def fire(critical):
    """Make the rule ``busy`` fire on queue_length (critical or not)."""
    monitor.get("queue_length").add(50, at=T0 - dt.timedelta(minutes=1))
    monitor.alert("busy", Rule("queue_length", stat="last", above=10, critical=critical))
    assert [t.state for t in evaluate(T0)] == ["firing"]


def test_staff_get_ok_with_the_checks(staff_client):
    response = get(staff_client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["firing"] == []
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["flush"]["ok"] is True
    assert body["checks"]["alerts"] == {"ok": True}


@pytest.mark.parametrize(
    ("settings_", "auth", "status"),
    [
        ({}, None, 401),
        ({"MONITORING_HEALTH_TOKEN": TOKEN}, None, 401),
        ({"MONITORING_HEALTH_TOKEN": TOKEN}, "Bearer wrong", 401),
        ({"MONITORING_HEALTH_TOKEN": TOKEN}, f"Basic {TOKEN}", 401),
        ({}, f"Bearer {TOKEN}", 401),  # no token set: none opens it
        ({"MONITORING_HEALTH_TOKEN": TOKEN}, f"Bearer {TOKEN}", 200),
        ({"MONITORING_HEALTH_TOKEN": f" {TOKEN} "}, f"bearer  {TOKEN}", 200),
        ({"MONITORING_HEALTH_ANONYMOUS": True, "MONITORING_HEALTH_TOKEN": TOKEN}, "Bearer x", 401),
    ],
)
def test_a_checker_needs_the_token(client, settings_, auth, status):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    with override_settings(**settings_):
        response = client.get(URL, **headers)
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="monitoring"'
        assert "status" not in response.json()
    else:
        assert set(response.json()) == {"status", "failing", "checks", "firing"}


def test_other_users_are_refused(user_client):
    assert get(user_client).status_code == 403
    assert get(Client()).status_code == 401


@override_settings(MONITORING_HEALTH_ANONYMOUS=True)
def test_anonymous_access_gets_the_status_only(user_client, freeze_now):
    freeze_now(T0)
    response = get(Client())
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    fire(critical=True)
    for client in (Client(), user_client):
        response = get(client)
        assert (response.status_code, response.json()) == (503, {"status": "error"})


def test_a_critical_rule_firing_answers_503_with_the_rule(client, freeze_now):
    freeze_now(T0)
    fire(critical=True)
    with override_settings(MONITORING_HEALTH_TOKEN=TOKEN):
        response = get(client, TOKEN)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["alerts"]
    assert body["checks"]["alerts"] == {"ok": False, "error": "Critical rules are firing: busy."}
    assert body["firing"] == [
        {
            "name": "busy",
            "monitor": "queue_length",
            "stat": "last",
            "value": 50,
            "threshold": "above 10",
            "since": "2024-06-03T12:00:00+00:00",
            "critical": True,
        }
    ]


def test_a_rule_that_is_not_critical_is_listed_but_health_stays_ok(staff_client, freeze_now):
    freeze_now(T0)
    fire(critical=False)
    response = get(staff_client)
    assert response.status_code == 200
    assert [rule["name"] for rule in response.json()["firing"]] == ["busy"]
    # Resolved: the rule is no longer listed.
    evaluate(T0 + dt.timedelta(minutes=10))
    assert get(staff_client).json()["firing"] == []


def test_a_critical_rule_that_resolves_brings_back_200(client, freeze_now):
    freeze_now(T0)
    fire(critical=True)
    with override_settings(MONITORING_HEALTH_ANONYMOUS=True):
        assert get(client).status_code == 503
        evaluate(T0 + dt.timedelta(minutes=10))
        assert get(client).status_code == 200


def test_an_unreachable_database_answers_503(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    with override_settings(MONITORING_HEALTH_TOKEN=TOKEN):
        response = get(client, TOKEN)
    monkeypatch.undo()
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] == {
        "ok": False,
        "error": "The database 'default' is unreachable: connection refused",
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("lag", "status"), [(3600, 200), (0, 503)])
def test_a_stuck_flusher_answers_503(staff_user, buffered, rf, lag, status):
    # Called without the test client: the end of a request would wake the flusher, and
    # so would a change of settings once the flusher runs.
    request = rf.get(URL)
    request.user = staff_user
    with override_settings(MONITORING_HEALTH_FLUSH_LAG=lag):
        monitor.get("queue_length").add(5, at=T0)
        response = health_view(request)
        assert response.status_code == status
        flush = json.loads(response.content)["checks"]["flush"]
        assert flush["pending"] == 1
        if status == 503:
            assert flush["ok"] is False
            assert "1 data points wait, and the last flush was" in flush["error"]
        monitor.flush()
        assert health_report()["checks"]["flush"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_points_waiting_on_a_flusher_that_never_started_answer_503(staff_user, buffered, rf):
    request = rf.get(URL)
    request.user = staff_user
    start = buffered.start
    buffered.start = lambda: None  # as if the thread could not be started
    try:
        monitor.get("queue_length").add(5, at=T0)
        with override_settings(MONITORING_HEALTH_FLUSH_LAG=3600):
            response = health_view(request)
    finally:
        buffered.start = start
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["flush"] == {
        "ok": False,
        "pending": 1,
        "flush_age": None,
        "thread_alive": False,
        "error": "1 data points wait, and the flusher thread is not running (it never ran).",
    }
    monitor.flush()
    assert health_report()["checks"]["flush"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_points_waiting_on_a_dead_flusher_answer_503(staff_user, buffered, rf):
    request = rf.get(URL)
    request.user = staff_user
    with override_settings(MONITORING_HEALTH_FLUSH_LAG=3600):
        monitor.get("queue_length").add(5, at=T0)
        thread = buffered._thread
        assert health_report()["checks"]["flush"]["ok"] is True  # alive, and just started
        # End the thread without writing, as an error its loop does not catch would.
        buffered._tick, buffered._stopping = (lambda: None), True
        buffered._wake.set()
        thread.join(10)
        del buffered._tick
        buffered._stopping = False
        assert not thread.is_alive()
        monitor.get("queue_length").add(6, at=T0)  # the fast path starts no new thread
        response = health_view(request)
    assert response.status_code == 503
    flush = json.loads(response.content)["checks"]["flush"]
    assert (flush["ok"], flush["pending"], flush["thread_alive"]) == (False, 2, False)
    assert re.fullmatch(
        r"2 data points wait, and the flusher thread is not running "
        r"\(its last flush was \d+ s ago\)\.",
        flush["error"],
    )
    monitor.flush()
    assert health_report()["checks"]["flush"]["ok"] is True


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_safe_methods(staff_client, method):
    assert getattr(staff_client, method)(URL).status_code == 405
