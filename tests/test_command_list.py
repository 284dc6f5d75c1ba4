"""manage.py monitoring_list, on a fixed clock."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from monitoring.register import monitor
from tests.factories import OrderCountFactory, QueueLengthFactory, UserCountFactory

pytestmark = pytest.mark.django_db

# 00:30 in Berlin (TIME_ZONE): an hour earlier is yesterday there, though still today in UTC.
NOW = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def data():
    UserCountFactory.create_batch(2, created=NOW - dt.timedelta(minutes=10))
    UserCountFactory(created=NOW - dt.timedelta(hours=1))
    OrderCountFactory(plan="pro", value=5, created=NOW - dt.timedelta(days=3))
    QueueLengthFactory(value=12, created=NOW - dt.timedelta(minutes=20))
    QueueLengthFactory(value=7, created=NOW - dt.timedelta(minutes=5))


def run(*args):
    out = StringIO()
    call_command("monitoring_list", *args, stdout=out)
    return out.getvalue()


def test_json_lists_every_monitor_with_today_s_points_and_last_write(data):
    rows = {row["name"]: row for row in json.loads(run("--format", "json"))}
    assert list(rows) == [handle.name for handle in monitor]
    assert rows["user_count"]["points_today"] == 2  # the third point was yesterday in Berlin
    assert rows["user_count"]["last_value"] == 1
    assert rows["user_count"]["last_write"] == "2026-03-11T00:20:00+01:00"
    assert rows["queue_length"] == {
        "name": "queue_length",
        "kind": "value",
        "category": "System",
        "last_value": 7,
        "points_today": 2,
        "last_write": "2026-03-11T00:25:00+01:00",
    }
    assert rows["orders"]["points_today"] == 0
    assert rows["orders"]["last_value"] == 5
    assert rows["logins"]["last_write"] is None
    assert rows["logins"]["last_value"] is None


def test_the_table_is_for_people(data):
    lines = run().splitlines()
    assert lines[0].split() == [
        "NAME",
        "KIND",
        "CATEGORY",
        "LAST",
        "VALUE",
        "TODAY",
        "LAST",
        "WRITE",
    ]
    queue = next(line for line in lines if line.startswith("queue_length"))
    assert queue.split() == ["queue_length", "value", "System", "7", "2", "2026-03-11", "00:25:00"]
    login = next(line for line in lines if line.startswith("logins "))
    assert login.split()[-3:] == ["–", "0", "never"]
    assert lines[-1] == "Times in Europe/Berlin."


def test_no_monitors():
    monitor._registry = {}
    assert run() == "No monitors are registered.\n"
    assert json.loads(run("--format", "json")) == []


def test_a_bad_format_is_refused_by_name():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="invalid choice: 'xml'"):
        call_command("monitoring_list", "--format", "xml")
