"""manage.py monitoring_export: the view's CSV and JSON, byte for byte, and the raw rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command

from monitoring.register import monitor
from monitoring.views import IntegerCountView
from test_app.models import MonitorRequestTime
from tests.conftest import ROOT, worker_env
from tests.factories import OrderCountFactory, QueueLengthFactory

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 10, 15, 45, tzinfo=UTC)


@pytest.fixture
def data():
    for hours, plan, value in [(1, "free", 1), (2, "pro", 3), (5, "team", 2), (30, "pro", 4)]:
        OrderCountFactory(plan=plan, value=value, created=NOW - dt.timedelta(hours=hours))
    for minutes, value in [(10, 7), (70, 12)]:
        QueueLengthFactory(value=value, created=NOW - dt.timedelta(minutes=minutes))
    for ms in (3.0, 8.5, 120.25):
        MonitorRequestTime.add(ms, at=NOW - dt.timedelta(minutes=40))


def run(*args, **kwargs):
    out, err = StringIO(), StringIO()
    call_command("monitoring_export", *args, stdout=out, stderr=err, **kwargs)
    return out.getvalue()


CASES = [
    ("orders", {}),
    ("orders", {"range": "24h", "split": "none"}),
    ("orders", {"start": "2026-03-08", "end": "2026-03-10T16:00", "resolution": "hour"}),
    ("orders", {"range": "7d", "split": "plan", "top": "1", "resolution": "day"}),
    ("queue_length", {"range": "6h", "resolution": "15min"}),
    ("request_time", {"start": "2026-03-10T14:00:00+01:00", "end": "2026-03-10T17:00:00Z"}),
]


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(("name", "params"), CASES)
def test_output_equals_the_view_for_the_same_parameters(
    staff_client_at, data, tmp_path, fmt, name, params
):
    client = staff_client_at(NOW)
    response = client.get(f"/monitoring/{name}/?{urlencode({**params, 'format': fmt})}")
    assert response.status_code == 200
    options = [f"--{key}={value}" for key, value in params.items()]
    target = tmp_path / f"out.{fmt}"
    run(name, "--format", fmt, *options, "-o", str(target))
    assert target.read_bytes() == response.content
    printed = run(name, "--format", fmt, *options)
    assert printed == response.content.decode() + ("\n" if fmt == "json" else "")
    assert len(response.content) > 100  # real data, not an empty answer


def test_filters_are_the_view_s_dimension_parameters(staff_client_at, data):
    client = staff_client_at(NOW)
    response = client.get("/monitoring/orders/?format=csv&range=24h&plan=pro&plan=team")
    out = run("orders", "--range", "24h", "--filter", "plan=pro", "--filter", "plan=team")
    assert out == response.content.decode()
    assert "plan=free" not in out and "plan=pro sum" in out


def test_a_custom_view_s_hooks_are_used(staff_client_at, data):
    class OrdersByPlan(IntegerCountView):
        def get_data(self, handle, series, query):
            data = super().get_data(handle, series, query)
            data["values"] = {"orders": data["values"]["sum"]}
            return data

    monitor.unregister("orders")
    monitor.register("orders", OrdersByPlan.as_view(model=OrderCountFactory._meta.model))
    client = staff_client_at(NOW)
    response = client.get("/monitoring/orders/?format=csv&range=24h")
    out = run("orders", "--range", "24h")
    assert out == response.content.decode()
    assert out.startswith("start,orders,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["order"], "No monitor named 'order'. Did you mean 'orders'?"),
        (["orders", "--start", "2026-13-01"], "--start: '2026-13-01' is not an ISO 8601"),
        (["orders", "--end", "yesterday", "--range", "1h"], "--end: 'yesterday' is not an ISO"),
        (["orders", "--range", "2w"], "--range: Unknown range '2w'. Accepted: 1h, 6h, 24h, 7d"),
        (["orders", "--split", "colour"], "--split: The monitor 'orders' has no dimension"),
        (["orders", "--top", "0"], "--top: top must be a whole number from 1 to 20, got '0'."),
        (["orders", "--resolution", "fortnight"], "--resolution: Unknown resolution 'fortnight'"),
        (["orders", "--range", "1h", "--start", "2026-03-01"], "Give either range or start"),
        (["orders", "--filter", "plan=gold"], "--filter plan: 'gold' is not a value of plan."),
        (["orders", "--filter", "colour=red"], "--filter colour: Unknown parameter 'colour'"),
        (["orders", "--filter", "plan"], "--filter takes DIMENSION=VALUE"),
        (["orders", "--filter", "range=1h"], "'range' is not a dimension; use --range for it."),
        (["orders", "--format", "raw", "--split", "plan"], "--split applies to buckets"),
        (["orders", "-o", "/nonexistent/dir/out.csv"], "Cannot write /nonexistent/dir/out.csv"),
        (
            ["orders", "--start", "2000-01-01", "--resolution", "minute"],
            "--resolution: minute buckets over this range",
        ),
    ],
)
def test_bad_input_is_a_command_error_that_names_it(freeze_now, data, args, message):
    freeze_now(NOW)
    with pytest.raises(CommandError) as error:
        run(*args)
    assert message in str(error.value)


def test_bad_options_exit_non_zero_without_a_traceback(data):
    env = worker_env()
    result = subprocess.run(
        [sys.executable, "test_app/manage.py", "monitoring_export", "orders", "--start", "soon"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "CommandError: --start: 'soon' is not an ISO 8601 date-time. Accepted: an ISO 8601 "
        "date or date-time, e.g. 2026-11-29 or 2026-11-29T14:30:00+01:00."
    )
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_raw_rows_are_the_import_format(freeze_now, data):
    freeze_now(NOW)
    out = run("orders", "--format", "raw", "--range", "24h")
    rows = list(csv.reader(io.StringIO(out)))
    # Oldest first, in TIME_ZONE (Berlin, +01:00 in March), the 30-hour-old point outside.
    assert rows == [
        ["at", "value", "plan"],
        ["2026-03-10T11:45:00+01:00", "2", "team"],
        ["2026-03-10T14:45:00+01:00", "3", "pro"],
        ["2026-03-10T15:45:00+01:00", "1", "free"],
    ]
    filtered = run("orders", "--format", "raw", "--range", "7d", "--filter", "plan=pro")
    assert [row[1:] for row in csv.reader(io.StringIO(filtered))] == [
        ["value", "plan"],
        ["4", "pro"],
        ["3", "pro"],
    ]
    durations = run("request_time", "--format", "raw", "--range", "1h")
    assert durations.splitlines()[1:] == [
        "2026-03-10T16:05:00+01:00,3.0",
        "2026-03-10T16:05:00+01:00,8.5",
        "2026-03-10T16:05:00+01:00,120.25",
    ]


@pytest.mark.parametrize(
    "name, message",
    [
        ("revenue", "'revenue' charts an existing table .* no raw rows of its own to export"),
        ("unpaid_orders", "'unpaid_orders' is a sampled gauge .* no raw rows to export"),
    ],
)
def test_table_charts_and_sampled_gauges_have_no_raw_rows_to_export(name, message):
    with pytest.raises(CommandError, match=message):
        call_command("monitoring_export", name, "--format", "raw", stdout=StringIO())
    out = StringIO()
    call_command("monitoring_export", name, "--format", "csv", stdout=out)
    assert out.getvalue().startswith("start,")
