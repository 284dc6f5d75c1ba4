"""The write path under faults: poison points, transactions, missing tables, bursts, children."""

import datetime as dt
import logging
import math
import multiprocessing
import sys
import warnings

import pytest
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Sum
from django.test import override_settings
from django.test.utils import isolate_apps

from monitoring.models import FloatValueBase, IntegerCountBase
from monitoring.register import monitor
from monitoring.storage import Refused, buffer
from monitoring.views import IntegerCountView, ValueView
from test_app.models import MonitorLoadAverage, MonitorOrderCount, MonitorUserCount
from tests.conftest import reported_losses
from tests.test_storage import BACKENDS, T0, total

UTC = dt.timezone.utc
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer_orders():
    """A count monitor with a ForeignKey dimension to User and a float dimension, with its table."""
    with isolate_apps("test_app"):

        class MonitorCustomerOrders(IntegerCountBase):
            customer = models.ForeignKey(User, on_delete=models.DO_NOTHING, null=True)
            weight = models.FloatField(default=0.0)

            class Meta:
                app_label = "test_app"

    with connection.schema_editor() as editor:
        editor.create_model(MonitorCustomerOrders)
    monitor.register("customer_orders", IntegerCountView.as_view(model=MonitorCustomerOrders))
    yield MonitorCustomerOrders
    buffer.reset()
    with connection.schema_editor() as editor:
        editor.delete_model(MonitorCustomerOrders)


def customer_rollups(model, resolution="hour"):
    from monitoring.models import Rollup

    return dict(
        Rollup.objects.filter(monitor="customer_orders", resolution=resolution).values_list(
            "dimensions", "count"
        )
    )


# -- add() refuses what the database would refuse -------------------------------------


def test_foreign_key_dimensions_need_a_saved_instance_of_the_model_or_a_key(customer_orders):
    user = User.objects.create(username="ann")
    group_like = MonitorUserCount.objects.create(value=1, created=T0)
    bad = [
        ("abc", "is a whole number"),
        (1.5, "or a saved instance is needed"),
        (True, "or a saved instance is needed"),
        (group_like, "an instance of auth.User is needed"),
        (User(username="unsaved"), "not saved"),
        (["1"], "a list is not a value"),
    ]
    for value, message in bad:
        with pytest.raises(ValueError, match=message):
            customer_orders.add(1, at=T0, customer=value)
    assert customer_orders.objects.count() == 0
    # One customer, one rollup key, whatever the spelling.
    for value in (user, user.pk, str(user.pk)):
        customer_orders.add(1, at=T0, customer=value)
    assert list(customer_orders.objects.values_list("customer_id", flat=True)) == [user.pk] * 3
    assert customer_rollups(customer_orders) == {f'{{"customer":{user.pk},"weight":0.0}}': 3}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_in_float_dimensions(customer_orders, value):
    with pytest.raises(ValueError, match="dimension 'weight'"):
        customer_orders.add(1, at=T0, weight=value)


def test_other_dimensions_refuse_containers_and_fractions():
    with pytest.raises(ValueError, match="a list is not a value"):
        monitor.get("orders").add(1, plan=["pro"])


@pytest.mark.parametrize("hours", [16, -16, 23])
def test_at_with_an_offset_databases_refuse_is_refused(hours):
    zone = dt.timezone(dt.timedelta(hours=hours) - dt.timedelta(minutes=1 if hours < 0 else 0))
    at = dt.datetime(2024, 6, 3, 12, tzinfo=zone)
    with pytest.raises(ValueError, match="UTC offset"):
        monitor.get("user_count").add(1, at=at)
    fine = dt.datetime(2024, 6, 3, 12, tzinfo=dt.timezone(dt.timedelta(hours=15, minutes=59)))
    monitor.get("user_count").add(1, at=fine)
    assert MonitorUserCount.objects.count() == 1


# -- poison points, then 1,000 good ones ------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["deleted customer", "missing customer"])
def test_a_poison_point_is_rejected_and_the_next_1000_are_stored(
    backend, kind, customer_orders, buffered, caplog
):
    user = User.objects.create(username="bob")
    if kind == "deleted customer":
        customer_orders.add(1, at=T0, customer=user)
        User.objects.filter(pk=user.pk).delete()
        user = User.objects.create(username="carol")
    else:
        customer_orders.add(1, at=T0, customer=user.pk + 1000)
    for i in range(1000):
        customer_orders.add(1, at=T0 + dt.timedelta(seconds=i), customer=user)
    with caplog.at_level(logging.ERROR, logger="monitoring.storage"):
        monitor.flush()
    stats = monitor.stats()
    assert stats["rejected"] == 1
    assert stats["rejected_reasons"] == {"integrity error": 1}
    assert stats["pending"] == 0 and stats["failed_flushes"] == 0
    assert customer_orders.objects.count() == 1000
    assert sum(customer_rollups(customer_orders).values()) == 1000
    assert "rejected a data point of test_app.MonitorCustomerOrders" in caplog.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_gauge_sums_that_would_overflow_stay_finite(backend, buffered):
    huge = 1.7e308
    gauge = monitor.get("load_average")
    for _ in range(3):
        gauge.add(huge, at=T0)
    monitor.flush()
    for _ in range(2):  # past what is stored: the upsert clamps too
        gauge.add(huge, at=T0)
    gauge.add(-huge, at=T0)
    monitor.flush()
    for i in range(1000):
        gauge.add(1.0, at=T0 + dt.timedelta(minutes=1 + i % 30))
    assert monitor.flush() == 1000
    assert monitor.stats()["rejected"] == 0
    assert MonitorLoadAverage.objects.count() == 1006
    hour = total("load_average")
    assert hour["count"] == 1006
    assert math.isfinite(hour["sum"])
    from monitoring.models import Rollup

    minute = Rollup.objects.get(monitor="load_average", resolution="minute", start=T0.timestamp())
    assert minute.sum == sys.float_info.max  # stuck at the largest double, not inf


# -- transactions ----------------------------------------------------------------------


def test_flush_inside_a_rolled_back_transaction_loses_nothing(buffered):
    for _ in range(1000):
        monitor.get("orders").add(1, at=T0, plan="pro")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        User.objects.create(username="dave")
        assert monitor.flush() == 0  # deferred: a rollback would take the points
        1 / 0  # noqa: B018 - the caller's error rolls its transaction back
    assert not User.objects.exists()
    assert monitor.stats()["deferred_flushes"] == 1
    monitor.flush()  # the flusher, woken by the deferred flush, may have written them first
    assert MonitorOrderCount.objects.count() == 1000
    assert total("orders")["count"] == 1000


def test_buffered_add_leaves_the_callers_commit_and_rollback_alone(customer_orders, buffered):
    with transaction.atomic():
        user = User.objects.create(username="erin")
        customer_orders.add(1, at=T0, customer=user.pk + 1000)  # no such customer
    assert User.objects.filter(username="erin").exists()  # the commit went through
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        customer_orders.add(1, at=T0, customer=user)
        1 / 0  # noqa: B018
    monitor.flush()
    assert customer_orders.objects.count() == 1  # the point survived the caller's rollback
    assert monitor.stats()["rejected"] == 1


def test_sync_add_refuses_a_missing_row_and_leaves_the_callers_commit_alone(customer_orders):
    with transaction.atomic():
        user = User.objects.create(username="fay")
        with pytest.raises(Refused, match="no auth.User has that key"):
            customer_orders.add(1, at=T0, customer=user.pk + 1000)
        customer_orders.add(1, at=T0, customer=user)
    assert User.objects.filter(username="fay").exists()
    assert customer_orders.objects.count() == 1


def test_sync_add_is_part_of_the_callers_transaction():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        monitor.get("user_count").add(1, at=T0)
        assert MonitorUserCount.objects.count() == 1
        1 / 0  # noqa: B018
    assert MonitorUserCount.objects.count() == 0
    assert total("user_count")["count"] is None


# -- a monitor without a table ------------------------------------------------------------


def test_a_monitor_without_a_table_is_reported_once_and_counted(buffered, caplog):
    with isolate_apps("test_app"):

        class MonitorNoTable(FloatValueBase):
            class Meta:
                app_label = "test_app"

    monitor.register("no_table", ValueView.as_view(model=MonitorNoTable))
    with caplog.at_level(logging.WARNING, logger="monitoring.storage"):
        for _ in range(3):
            MonitorNoTable.add(1.5, at=T0)
            monitor.get("user_count").add(1, at=T0)
            assert monitor.flush() == 1
        buffer.flush_at_exit()
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1, caplog.text
    message = errors[0].getMessage()
    assert "test_app_monitornotable" in message
    assert "makemigrations" in message and "migrate" in message
    stats = monitor.stats()
    assert stats["rejected_reasons"] == {"no table": 3}
    assert stats["failed_flushes"] == 0
    assert not reported_losses(caplog.text)
    assert MonitorUserCount.objects.count() == 3


# -- backpressure --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_burst_past_the_bound_is_stored_whole_with_bounded_memory(backend, buffered):
    count = monitor.get("user_count")
    largest = 0
    with override_settings(MONITORING_BUFFER_MAX=10_000, MONITORING_BUFFER_SIZE=2_000):
        for i in range(200_000):
            count.add(1, at=T0 + dt.timedelta(seconds=i % 3600))
            if i % 500 == 0:
                largest = max(largest, len(buffer))
        monitor.flush()
    stats = monitor.stats()
    assert stats["dropped"] == 0
    assert largest <= 10_000
    assert MonitorUserCount.objects.count() == 200_000
    assert total("user_count")["count"] == 200_000


# -- children -------------------------------------------------------------------------------


def _add_in_child(points):
    handle = monitor.get("orders")
    for i in range(points):
        handle.add(1, at=T0 + dt.timedelta(seconds=i % 60), plan="pro")
    return points


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_multiprocessing_children_write_their_points_at_exit(backend, buffered):
    context = multiprocessing.get_context("fork")
    buffer.reset()
    connection.close()  # a child must not share the parent's connection
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads.
        warnings.simplefilter("ignore", DeprecationWarning)
        process = context.Process(target=_add_in_child, args=(2000,))
        process.start()
        process.join(60)
        with context.Pool(2) as pool:
            assert pool.map(_add_in_child, [500, 500, 500]) == [500] * 3
            pool.close()
            pool.join()
    assert process.exitcode == 0
    orders = total("orders")
    assert orders == {"count": 3500, "sum": 3500}
    assert monitor.get("orders").model.objects.aggregate(n=Sum("value"))["n"] == 3500


@pytest.mark.slow
def test_flush_on_sigterm_writes_a_scripts_points_before_it_dies():
    import signal
    import subprocess

    from tests.conftest import ROOT, worker_env

    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "storage_worker.py"), "300", "--sigterm"],
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "added 300"
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 128 + signal.SIGTERM, err
    assert total("orders")["count"] == 300
    assert total("request_time")["count"] == 300


def test_a_full_buffer_drops_only_after_the_flusher_made_no_progress_for_the_wait(buffered):
    handle = monitor.get("user_count")
    with override_settings(
        MONITORING_BUFFER_MAX=5, MONITORING_BUFFER_SIZE=5, MONITORING_BUFFER_WAIT=0.2
    ):
        handle.add(1, at=T0)  # starts the flusher
        # A flusher stuck in a write: hold its lock, as a hung database would.
        buffer._flush_lock.acquire()
        try:
            for _ in range(6):
                handle.add(1, at=T0)
            stats = monitor.stats()
        finally:
            buffer._flush_lock.release()
        assert stats["dropped_reasons"] == {"buffer full (flusher too slow)": 2}
        monitor.flush()
    assert MonitorUserCount.objects.count() == 5


def test_minus_zero_is_zero_in_raw_rows_and_rollup_keys(customer_orders):
    customer_orders.add(1, at=T0, weight=-0.0)
    customer_orders.add(1, at=T0, weight=0.0)
    assert customer_rollups(customer_orders) == {'{"customer":null,"weight":0.0}': 2}
    weights = customer_orders.objects.values_list("weight", flat=True)
    assert [math.copysign(1, w) for w in weights] == [1, 1]
