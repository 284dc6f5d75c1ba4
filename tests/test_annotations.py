"""Annotations: from code, the command and the admin, and in every series' JSON."""

import datetime as dt
import io
import zoneinfo

import pytest
from django.core.management import CommandError, call_command

import monitoring
from monitoring.alerts import Rule, evaluate
from monitoring.models import Annotation
from monitoring.register import monitor

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)


def test_annotate_from_code(freeze_now):
    freeze_now(T0)
    annotation = monitoring.annotate("Deployed v1.4", tags=["deploy", " deploy ", "web"])
    assert annotation.pk is not None
    assert (annotation.at, annotation.text, annotation.tags) == (
        T0,
        "Deployed v1.4",
        ["deploy", "web"],
    )
    naive = monitoring.annotate("Migrated", at=dt.datetime(2024, 6, 3, 9, 0))
    naive.refresh_from_db()
    assert naive.at == dt.datetime(2024, 6, 3, 9, 0, tzinfo=BERLIN)
    assert naive.tags == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ""}, "needs a text"),
        ({"text": "   "}, "needs a text"),
        ({"text": None}, "needs a text"),
        ({"text": "x" * 501}, "at most 500 characters"),
        ({"text": "ok", "tags": "deploy"}, "tags must be a list of strings"),
        ({"text": "ok", "tags": [""]}, "Each tag must be a string of 1 to 50 characters"),
        ({"text": "ok", "tags": [3]}, "Each tag must be a string"),
        ({"text": "ok", "at": "2024-06-03"}, "at must be a datetime"),
    ],
)
def test_bad_annotations_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        monitoring.annotate(**kwargs)
    assert not Annotation.objects.exists()


def test_a_series_json_carries_the_annotations_in_its_range(staff_client_at):
    client = staff_client_at(T0)
    monitoring.annotate("Too old", at=T0 - dt.timedelta(days=2))
    monitoring.annotate("Deployed v1.4", tags=["deploy"], at=T0 - dt.timedelta(hours=1))
    monitoring.annotate("Incident", tags=["incident"], at=T0 - dt.timedelta(minutes=30))
    data = client.get("/monitoring/orders/?format=json&range=24h").json()
    assert data["annotations"] == [
        {
            "at": "2024-06-03T13:00:00+02:00",
            "timestamp": (T0 - dt.timedelta(hours=1)).timestamp(),
            "text": "Deployed v1.4",
            "tags": ["deploy"],
        },
        {
            "at": "2024-06-03T13:30:00+02:00",
            "timestamp": (T0 - dt.timedelta(minutes=30)).timestamp(),
            "text": "Incident",
            "tags": ["incident"],
        },
    ]
    # Every monitor's data has them, whatever its kind.
    for name in ("queue_length", "request_time"):
        texts = [
            a["text"]
            for a in client.get(f"/monitoring/{name}/?format=json&range=24h").json()["annotations"]
        ]
        assert texts == ["Deployed v1.4", "Incident"]
    week = client.get("/monitoring/orders/?format=json&range=7d").json()
    assert [a["text"] for a in week["annotations"]] == ["Too old", "Deployed v1.4", "Incident"]


def test_a_series_json_carries_its_rules_and_their_state(staff_client_at, settings):
    settings.MONITORING_ALERT_EMAILS = ["ops@example.com"]
    client = staff_client_at(T0)
    monitor._alerts = {}
    monitor.alert("busy", Rule("queue_length", stat="max", above=10, critical=True))
    monitor.alert("other", Rule("orders", above=10))
    assert client.get("/monitoring/queue_length/?format=json").json()["alerts"] == [
        {
            "name": "busy",
            "stat": "max",
            "above": 10,
            "below": None,
            "threshold": "above 10",
            "summary": "queue_length max over 5m above 10",
            "critical": True,
            "state": "ok",
        }
    ]
    monitor.get("queue_length").add(50, at=T0 - dt.timedelta(minutes=1))
    evaluate(T0)
    data = client.get("/monitoring/queue_length/?format=json").json()
    assert [(a["name"], a["state"]) for a in data["alerts"]] == [("busy", "firing")]
    assert client.get("/monitoring/load_average/?format=json").json()["alerts"] == []


def test_the_command_annotates(freeze_now):
    freeze_now(T0)
    out = io.StringIO()
    call_command(
        "monitoring_annotate", "Deployed v1.4", "--tag", "deploy", "--tag", "web", stdout=out
    )
    assert out.getvalue() == "Annotated 2024-06-03 14:00:00: Deployed v1.4 [deploy, web]\n"
    call_command("monitoring_annotate", "Backfill", "--at", "2024-06-01T08:00", stdout=out)
    rows = [(a.text, a.tags, a.at) for a in Annotation.objects.order_by("at")]
    assert rows == [
        ("Backfill", [], dt.datetime(2024, 6, 1, 8, 0, tzinfo=BERLIN)),
        ("Deployed v1.4", ["deploy", "web"], T0),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Deployed", "--at", "yesterday"], "--at 'yesterday' is not an ISO 8601 time"),
        ([""], "needs a text"),
        (["Deployed", "--tag", ""], "Each tag must be a string"),
    ],
)
def test_the_command_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("monitoring_annotate", *args, stdout=io.StringIO())


def test_annotations_are_edited_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/monitoring/annotation/add/",
        {"at_0": "2024-06-03", "at_1": "14:00:00", "text": "Deployed v1.4", "tags": '["deploy"]'},
    )
    assert response.status_code == 302, response.content.decode()
    (annotation,) = Annotation.objects.all()
    assert (annotation.at, annotation.tags) == (T0, ["deploy"])
    listing = admin_client.get("/admin/monitoring/annotation/").content.decode()
    assert "Deployed v1.4" in listing and "deploy" in listing


@pytest.mark.parametrize(
    "tags, error",
    [
        ("[1]", "Each tag must be a string of 1 to"),
        ('[" "]', "Each tag must be a string of 1 to"),
        ('["' + "x" * 60 + '"]', "Each tag must be a string of 1 to"),
        ('{"a": 1}', "tags must be a list of strings"),
        ("5", "tags must be a list of strings"),
    ],
)
def test_bad_tags_in_the_admin_are_a_form_error(admin_client, tags, error):
    response = admin_client.post(
        "/admin/monitoring/annotation/add/",
        {"at_0": "2024-06-03", "at_1": "14:00:00", "text": "Deployed", "tags": tags},
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Annotation.objects.exists()


def test_one_tag_as_a_string_is_that_tag_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/monitoring/annotation/add/",
        {"at_0": "2024-06-03", "at_1": "14:00:00", "text": "Deployed", "tags": '" deploy "'},
    )
    assert response.status_code == 302
    assert Annotation.objects.get().tags == ["deploy"]


def test_alert_states_and_history_are_read_only_in_the_admin(admin_client, settings):
    settings.MONITORING_ALERT_EMAILS = ["ops@example.com"]
    monitor._alerts = {}
    monitor.alert("busy", Rule("queue_length", stat="max", above=10))
    monitor.get("queue_length").add(50, at=T0 - dt.timedelta(minutes=1))
    evaluate(T0)
    for path in ("alertstate", "alerttransition"):
        response = admin_client.get(f"/admin/monitoring/{path}/")
        assert response.status_code == 200
        assert "busy" in response.content.decode()
        assert admin_client.get(f"/admin/monitoring/{path}/add/").status_code == 403
