"""The forms that parse the monitoring views' query parameters: every field's error."""

import datetime as dt
import zoneinfo

import pytest
from django.http import QueryDict
from django.test import override_settings

from monitoring.forms import DashboardForm, MonitorQueryForm
from monitoring.register import monitor

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.timezone.utc)


def form(name="orders", now=NOW, **params):
    data = QueryDict(mutable=True)
    for key, value in params.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return MonitorQueryForm(data, handle=monitor.get(name), now=now)


def error(name="orders", **params):
    bound = form(name, **params)
    assert not bound.is_valid()
    return bound.error_json()


def test_no_parameters_give_the_default_range_ending_now():
    bound = form()
    assert bound.is_valid(), bound.errors
    query = bound.query()
    assert query.range == "7d"
    assert (query.start, query.end) == (NOW - dt.timedelta(days=7), NOW)
    assert query.resolution == "auto"
    assert query.format is None  # the view picks it from the headers
    assert query.split_by == "plan"
    assert query.top == 5
    assert query.filters == {}


@override_settings(MONITORING_DEFAULT_RANGE="24h")
def test_the_default_range_is_the_setting():
    bound = form()
    assert bound.is_valid()
    query = bound.query()
    assert query.range == "24h"
    assert query.start == NOW - dt.timedelta(hours=24)


@override_settings(TIME_ZONE="Pacific/Kiritimati")
def test_a_naive_start_is_read_in_the_site_time_zone_not_the_active_one():
    from django.utils import timezone

    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        bound = form(start="2026-03-01T00:00:00", end="2026-03-02T00:00:00")
        assert bound.is_valid(), bound.errors
    assert bound.query().start == dt.datetime(
        2026, 3, 1, tzinfo=zoneinfo.ZoneInfo("Pacific/Kiritimati")
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"format": "xml"}, "format", "Unknown format 'xml'."),
        ({"range": "2d"}, "range", "Unknown range '2d'."),
        ({"start": "soon"}, "start", "'soon' is not an ISO 8601 date-time."),
        ({"start": "1800-01-01"}, "start", "'1800-01-01' is not between the years 1900 and 9000."),
        ({"start": "2026-03-01", "end": "later"}, "end", "'later' is not an ISO 8601 date-time."),
        ({"start": "2026-03-01", "end": "9500-01-01"}, "end", "is not between the years"),
        ({"resolution": "month"}, "resolution", "Unknown resolution 'month'."),
        ({"split": "colour"}, "split", "The monitor 'orders' has no dimension 'colour'."),
        ({"top": "0"}, "top", "top must be a whole number from 1 to 20, got '0'."),
        ({"top": "²"}, "top", "top must be a whole number from 1 to 20"),
        ({"plan": "gold"}, "plan", "'gold' is not a value of plan."),
        ({"plan": "a\x00"}, "plan", "is not a value of plan"),
        ({"colour": "red"}, "colour", "Unknown parameter 'colour' for the monitor 'orders'."),
        # Rules across fields name the field that has to change.
        ({"range": "24h", "start": "2026-03-01"}, "start", "Give either range or start, not both."),
        ({"end": "2026-03-01"}, "end", "end needs start or range to go with it."),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end", "must be after start"),
        ({"start": "8999-01-01"}, "start", "must be before now"),  # no end: end is now
        ({"range": "365d", "resolution": "minute"}, "resolution", "choose a coarser resolution"),
        ({"start": "1901-01-01", "end": "8000-01-01"}, "start", "a chart can show at most"),
    ],
)
def test_every_field_names_itself_in_its_error(params, field, message):
    body = error(**params)
    assert body["parameter"] == field
    assert message in body["error"]
    assert body["allowed"]
    assert body["errors"][field]


def test_a_dimension_without_choices_is_cleaned_by_its_model_field():
    # A value the field refuses names what the field accepts.
    from django.core.exceptions import ValidationError
    from django.db import models

    class Field(models.IntegerField):
        pass

    from monitoring.forms import DimensionParameter

    parameter = DimensionParameter(Field(name="shard"))
    with pytest.raises(ValidationError) as caught:
        parameter.clean(["three"])
    assert caught.value.allowed == ["a value of Field"]
    assert parameter.clean(["3", "4"]) == [3, 4]


def test_filters_keep_every_value_of_a_repeated_parameter():
    bound = form(plan=["pro", "team"])
    assert bound.is_valid(), bound.errors
    assert bound.query().filters == {"plan": ["pro", "team"]}


def test_split_none_and_an_explicit_dimension():
    bound = form(split="none")
    assert bound.is_valid()
    assert bound.query().split_by is None
    bound = form(split="plan")
    assert bound.is_valid()
    assert bound.query().split_by == "plan"
    bound = form("user_count")
    assert bound.is_valid()
    assert bound.query().split_by is None


def test_the_allowed_values_of_a_choice_are_listed():
    assert error(range="2d")["allowed"] == ["1h", "6h", "24h", "7d", "30d", "90d", "365d"]
    assert error(split="x")["allowed"] == ["none", "plan"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ("7d", 0)),
        ({"range": "30d", "refresh": "60"}, ("30d", 60)),
        ({"range": "2d", "refresh": "7"}, ("7d", 0)),
        ({"refresh": "9" * 50}, ("7d", 0)),
    ],
)
def test_the_dashboard_form_falls_back_to_the_defaults(params, expected):
    assert DashboardForm(QueryDict(mutable=True) | params).values() == expected
