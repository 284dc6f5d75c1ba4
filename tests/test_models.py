import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import models as dj_models
from django.test import override_settings
from django.test.utils import isolate_apps
from django.utils import timezone

from monitoring.models import (
    DurationBase,
    FloatValueBase,
    IntegerCountBase,
    IntegerValueBase,
    MonitorBase,
)
from monitoring.register import monitor
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
    MonitorUserCount,
)

pytestmark = pytest.mark.django_db


def test_both_base_spellings_make_concrete_models_with_value_and_created():
    # With models.Model among the bases, as the seed's README, and without it.
    for model in (MonitorUserCount, MonitorOrderCount):
        assert issubclass(model, IntegerCountBase)
        assert not model._meta.abstract
        names = {field.name for field in model._meta.concrete_fields}
        assert {"id", "value", "created"} <= names
        created = model._meta.get_field("created")
        assert created.db_index
    assert isinstance(MonitorUserCount._meta.get_field("value"), dj_models.BigIntegerField)
    assert isinstance(MonitorLoadAverage._meta.get_field("value"), dj_models.FloatField)


@pytest.mark.parametrize(
    "base", [MonitorBase, IntegerCountBase, IntegerValueBase, FloatValueBase, DurationBase]
)
def test_bases_are_abstract(base):
    assert base._meta.abstract


def test_add_counts_one_by_default_at_now():
    before = timezone.now()
    monitor.get("user_count").add()
    row = MonitorUserCount.objects.get()
    assert row.value == 1
    assert before <= row.created <= timezone.now()
    assert timezone.is_aware(row.created)


def test_class_level_add_writes_a_row():
    MonitorUserCount.add(3)
    assert list(MonitorUserCount.objects.values_list("value", flat=True)) == [3]


def test_add_at_a_given_time():
    at = dt.datetime(2024, 3, 31, 1, 30, tzinfo=dt.timezone.utc)
    monitor.get("user_count").add(2, at=at)
    assert MonitorUserCount.objects.get().created == at


def test_add_values_of_each_kind():
    monitor.get("queue_length").add(7)
    monitor.get("load_average").add(1.25)
    monitor.get("request_time").add(Decimal("12.5"))
    monitor.get("queue_length").add(4.0)  # an integral float is a whole number
    monitor.get("load_average").add(Fraction(1, 4))
    assert sorted(MonitorQueueLength.objects.values_list("value", flat=True)) == [4, 7]
    assert sorted(MonitorLoadAverage.objects.values_list("value", flat=True)) == [0.25, 1.25]
    assert MonitorRequestTime.objects.get().value == 12.5


def test_negative_counts_are_allowed_for_decrements():
    monitor.get("user_count").add(-1)
    assert MonitorUserCount.objects.get().value == -1


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("1", TypeError, "needs a number for value, got '1' \\(str\\)"),
        (None, TypeError, "needs a number for value, got None"),
        (True, TypeError, "got True \\(bool\\)"),
        (False, TypeError, "got False \\(bool\\)"),
        ([1], TypeError, "needs a number"),
        (1j, TypeError, "needs a number"),
        (math.nan, ValueError, "needs a finite number"),
        (math.inf, ValueError, "needs a finite number"),
        (-math.inf, ValueError, "needs a finite number"),
        (Decimal("NaN"), ValueError, "needs a finite number"),
        (1.5, ValueError, "stores whole numbers; got 1.5"),
        (Decimal("2.5"), ValueError, "stores whole numbers"),
        (2**63, ValueError, "outside the 64-bit range"),
        (-(2**63) - 1, ValueError, "outside the 64-bit range"),
        (float(2**63), ValueError, "outside the 64-bit range"),
    ],
)
def test_bad_values_for_a_count_raise_and_write_nothing(value, error, message):
    with pytest.raises(error, match=message):
        monitor.get("user_count").add(value)
    assert MonitorUserCount.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("queue_length", 0.5, ValueError, "stores whole numbers"),
        ("load_average", math.nan, ValueError, "finite"),
        ("load_average", 10**400, ValueError, "too large for a float"),
        ("request_time", -1, ValueError, "negative duration"),
        ("request_time", "fast", TypeError, "needs a number"),
    ],
)
def test_bad_values_for_gauges_and_durations(name, value, error, message):
    handle = monitor.get(name)
    with pytest.raises(error, match=message):
        handle.add(value)
    assert handle.model.objects.count() == 0


@pytest.mark.parametrize("name", ["queue_length", "load_average", "request_time"])
def test_gauges_and_durations_need_a_value(name):
    with pytest.raises(TypeError, match="needs a value"):
        monitor.get(name).add()
    assert monitor.get(name).model.objects.count() == 0


def test_naive_at_is_refused_while_use_tz():
    with pytest.raises(ValueError, match="naive datetime.*USE_TZ is True"):
        monitor.get("user_count").add(1, at=dt.datetime(2024, 1, 1, 12))
    assert MonitorUserCount.objects.count() == 0


def test_at_must_be_a_datetime():
    with pytest.raises(TypeError, match="needs a datetime for at, got '2024-01-01'"):
        monitor.get("user_count").add(1, at="2024-01-01")
    with pytest.raises(TypeError, match="needs a datetime for at"):
        monitor.get("user_count").add(1, at=dt.date(2024, 1, 1))
    assert MonitorUserCount.objects.count() == 0


@override_settings(USE_TZ=False)
def test_without_use_tz_naive_at_is_stored_and_aware_is_made_local():
    naive = dt.datetime(2024, 1, 1, 12)
    monitor.get("user_count").add(1, at=naive)
    aware = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    monitor.get("user_count").add(1, at=aware)
    created = sorted(MonitorUserCount.objects.values_list("created", flat=True))
    # TIME_ZONE is Europe/Berlin: 12:00 UTC is 13:00 local in winter.
    assert created == [naive, dt.datetime(2024, 1, 1, 13)]


def test_dimensions_are_stored():
    handle = monitor.get("orders")
    handle.add(1, plan="pro")
    handle.add(2, plan="team")
    handle.add()  # the field's default
    assert sorted(MonitorOrderCount.objects.values_list("plan", "value")) == [
        ("free", 1),
        ("pro", 1),
        ("team", 2),
    ]
    assert MonitorOrderCount.dimension_names() == ["plan"]


def test_unknown_dimension_lists_the_valid_ones():
    with pytest.raises(
        TypeError, match="unknown dimension\\(s\\) 'region'; valid dimensions: 'plan'"
    ):
        monitor.get("orders").add(1, region="eu")
    with pytest.raises(TypeError, match="valid dimensions: none"):
        monitor.get("user_count").add(1, plan="pro")
    assert MonitorOrderCount.objects.count() == 0
    assert MonitorUserCount.objects.count() == 0


def test_invalid_dimension_value_names_the_dimension():
    with pytest.raises(ValueError, match="invalid value for dimension 'plan': 'gold'"):
        monitor.get("orders").add(1, plan="gold")
    with pytest.raises(ValueError, match="dimension 'plan'"):
        monitor.get("orders").add(1, plan="x" * 30)
    with pytest.raises(ValueError, match="dimension 'plan'"):
        monitor.get("orders").add(1, plan="pro\x00")
    assert MonitorOrderCount.objects.count() == 0


def test_str_of_a_row():
    row = MonitorUserCount(value=2, created=dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc))
    assert str(row) == "2 at 2024-05-01 08:00:00"


@isolate_apps("test_app")
def test_a_dimension_without_default_is_required():
    class MonitorRegionCount(IntegerCountBase):
        region = dj_models.CharField(max_length=10)

        class Meta:
            app_label = "test_app"

    with pytest.raises(TypeError, match="missing the dimension 'region', which has no default"):
        MonitorRegionCount.add(1)


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.timezone.utc),
        dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone.utc),
        dt.datetime(1899, 12, 31, tzinfo=dt.timezone.utc),
    ],
)
def test_at_outside_the_supported_years_is_refused(at):
    with pytest.raises(ValueError, match="the year must be from 1900 to 9000"):
        monitor.get("user_count").add(1, at=at)
    assert MonitorUserCount.objects.count() == 0


@isolate_apps("test_app")
def test_null_characters_in_a_text_dimension_are_refused():
    class MonitorPageViews(IntegerCountBase):
        path = dj_models.CharField(max_length=200, default="/")

        class Meta:
            app_label = "test_app"

    with pytest.raises(ValueError, match="dimension 'path'.*null characters are not allowed"):
        MonitorPageViews.add(1, path="/a\x00b")


def test_the_64_bit_bounds_themselves_are_stored():
    for value in (2**63 - 1, -(2**63)):
        monitor.get("queue_length").add(value, at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    stored = sorted(monitor.get("queue_length").model.objects.values_list("value", flat=True))
    assert stored == [-(2**63), 2**63 - 1]
