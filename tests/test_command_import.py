"""manage.py monitoring_import: checked like add(), all or nothing, --replace-range idempotent."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from monitoring.models import Rollup, RollupBin
from monitoring.register import monitor
from monitoring.storage.maintenance import rebuild
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
    MonitorUserCount,
)
from tests.conftest import ROOT, worker_env
from tests.factories import OrderCountFactory

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 10, 15, 45, tzinfo=UTC)


def run(*args, **kwargs):
    out = StringIO()
    call_command("monitoring_import", *args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def export(*args):
    out = StringIO()
    call_command("monitoring_export", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def totals(name):
    """Return each resolution's (count, sum) of a monitor's rollups."""
    return {
        resolution: tuple(
            Rollup.objects.filter(monitor=name, resolution=resolution)
            .aggregate(n=Sum("count"), s=Sum("sum"))
            .values()
        )
        for resolution in ("minute", "hour", "day")
    }


def wipe(model, name):
    model.objects.all()._raw_delete(model.objects.db)
    Rollup.objects.filter(monitor=name).delete()
    RollupBin.objects.filter(monitor=name).delete()


ORDERS = """at,value,plan
2026-03-10T10:15:00+01:00,2,pro
2026-03-10T10:16:30Z,1,free
2026-03-09 23:59:59.5,5,team
"""


def test_import_writes_raw_rows_and_rollups(tmp_path):
    out = run("orders", write(tmp_path, ORDERS))
    assert "Imported 3 points into orders from 2026-03-09T23:59:59.500000+01:00" in out
    rows = sorted(MonitorOrderCount.objects.values_list("created", "value", "plan"))
    assert rows == [
        (dt.datetime(2026, 3, 9, 22, 59, 59, 500000, tzinfo=UTC), 5, "team"),
        (dt.datetime(2026, 3, 10, 9, 15, tzinfo=UTC), 2, "pro"),
        (dt.datetime(2026, 3, 10, 10, 16, 30, tzinfo=UTC), 1, "free"),
    ]
    assert totals("orders") == {"minute": (3, 8.0), "hour": (3, 8.0), "day": (3, 8.0)}
    # The naive time is Berlin's: 23:59:59.5 on the 9th is that day's bucket there.
    day = Rollup.objects.get(monitor="orders", resolution="day", dimensions='{"plan":"team"}')
    assert day.start == int(dt.datetime(2026, 3, 8, 23, tzinfo=UTC).timestamp())
    rebuilt = totals("orders")
    rebuild([monitor.get("orders")])
    assert totals("orders") == rebuilt  # what a flush would have written


def test_missing_dimension_columns_take_their_default(tmp_path):
    run("orders", write(tmp_path, "at,value\n2026-03-10T10:00:00Z,4\n"))
    assert list(MonitorOrderCount.objects.values_list("plan", "value")) == [("free", 4)]


GOOD = "2026-03-10T09:00:00Z,1,pro\n"  # a good line before the bad one: not written either


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty; the header must be at,value,plan"),
        ("time,value\n", "line 1: the header is time,value; the header must be at,value,plan"),
        ("at,value,colour\n", "line 1, column 'colour': MonitorOrderCount has no dimension"),
        ("at,value,plan,plan\n", "line 1, column 'plan': the column is there twice"),
        (f"at,value,plan\n{GOOD}2026-03-10,x,pro\n", "line 3, column 'value': 'x' is not a"),
        (f"at,value,plan\n{GOOD}2026-03-10,nan,pro\n", "line 3, column 'value': 'nan' is not"),
        (f"at,value,plan\n{GOOD}2026-03-10,٣,pro\n", "line 3, column 'value': '٣' is not a"),
        (
            f"at,value,plan\n{GOOD}2026-03-10,1.5,pro\n",
            "line 3, column 'value': MonitorOrderCount stores whole numbers; got 1.5.",
        ),
        (f"at,value,plan\n{GOOD}last week,1,pro\n", "line 3, column 'at': 'last week' is not"),
        (
            f"at,value,plan\n{GOOD}1066-10-14,1,pro\n",
            "line 3, column 'at': MonitorOrderCount.add() got at=1066-10-14T00:00:00+00:53",
        ),
        (f"at,value,plan\n{GOOD}2026-03-10T00:00+18:00,1,pro\n", "whose UTC offset is 18:00:00"),
        (
            f"at,value,plan\n{GOOD}2026-03-10,1,gold\n",
            "line 3, column 'plan': MonitorOrderCount.add() got an invalid value for dimension",
        ),
        (f"at,value,plan\n{GOOD}\n2026-03-10,1\n", "line 4: 2 cells where the header has 3"),
    ],
)
def test_a_bad_line_names_line_and_column_and_nothing_is_written(tmp_path, text, message):
    with pytest.raises(CommandError) as error:
        run("orders", write(tmp_path, text))
    assert str(error.value).startswith("Nothing imported:\n  ")
    assert message in str(error.value)
    assert MonitorOrderCount.objects.count() == 0
    assert not Rollup.objects.filter(monitor="orders").exists()


def test_every_bad_line_is_listed_up_to_a_limit(tmp_path):
    lines = ["at,value"] + [f"2026-03-10T09:{i:02d}:00Z,{'x' if i % 2 else i}" for i in range(60)]
    with pytest.raises(CommandError) as error:
        run("user_count", write(tmp_path, "\n".join(lines)))
    message = str(error.value)
    assert "line 3, column 'value': 'x' is not a number" in message
    assert "line 41, column 'value'" in message
    assert "line 43," not in message
    assert message.endswith("(stopped reading after 20 bad lines)")
    assert MonitorUserCount.objects.count() == 0


def test_unknown_monitor_and_file_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="No monitor named 'order'. Did you mean 'orders'"):
        run("order", write(tmp_path, ORDERS))
    with pytest.raises(CommandError, match="Cannot read /nonexistent.csv: No such file"):
        run("orders", "/nonexistent.csv")
    with pytest.raises(CommandError, match="not a UTF-8 CSV file"):
        path = tmp_path / "latin1.csv"
        path.write_bytes("at,value,plan\n2026-03-10,1,caf\xe9\n".encode("latin-1"))
        run("orders", str(path))


@pytest.mark.parametrize(
    "name, message",
    [
        ("revenue", "'revenue' charts an existing table .* no raw rows of its own to import"),
        ("unpaid_orders", "'unpaid_orders' is a sampled gauge .* no raw rows to import"),
    ],
)
def test_table_charts_and_sampled_gauges_have_no_raw_rows_to_import(tmp_path, name, message):
    path = tmp_path / "points.csv"
    path.write_text("at,value\n2026-03-10T12:00:00Z,1\n")
    with pytest.raises(CommandError, match=message):
        run(name, str(path))


@pytest.mark.django_db(transaction=True)  # the child process commits: flush the tables after
def test_the_command_line_runs_it_after_the_system_checks(tmp_path):
    # manage.py runs the system checks first, which call_command() skips.
    path = write(tmp_path, ORDERS.replace(",2,pro", ",twelve,pro"))
    result = subprocess.run(
        [sys.executable, "test_app/manage.py", "monitoring_import", "orders", path],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: Nothing imported:\n  line 2, column 'value': 'twelve' is not a number\n"
    )
    result = subprocess.run(
        [sys.executable, "test_app/manage.py", "monitoring_import", "orders", "-"],
        cwd=ROOT,
        env=worker_env(),
        input=ORDERS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Imported 3 points into orders")
    assert result.stderr == "orders: writing: 3/3 points (100%)\n"
    assert MonitorOrderCount.objects.count() == 3


def test_a_file_without_points_imports_nothing(tmp_path):
    out = run("orders", write(tmp_path, "at,value,plan\n\n\n"))
    assert out == f"{tmp_path / 'in.csv'} has no data points; nothing imported.\n"
    out = run("orders", "-", stdin=StringIO("at,value\r\n"))
    assert out == "Standard input has no data points; nothing imported.\n"
    assert not Rollup.objects.exists()


def test_standard_input(tmp_path):
    out = run("orders", "-", stdin=StringIO(ORDERS))
    assert "Imported 3 points" in out
    assert MonitorOrderCount.objects.aggregate(s=Sum("value"))["s"] == 8


def test_replace_range_twice_gives_the_same_totals(tmp_path):
    # Points before, inside and after the file's range, on the same days.
    OrderCountFactory(plan="pro", value=100, created=dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    OrderCountFactory(plan="pro", value=7, created=dt.datetime(2026, 3, 10, 9, 30, tzinfo=UTC))
    OrderCountFactory(plan="free", value=50, created=dt.datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    path = write(tmp_path, ORDERS)  # from 2026-03-09 22:59:59.5 to 2026-03-10 10:16:30 UTC
    run("orders", path, "--replace-range")
    once = totals("orders")
    # The 09:30 point lay inside the range and is replaced; 08:00 too (after 22:59 the day before).
    assert once["day"] == (4, 58.0)
    assert MonitorOrderCount.objects.count() == 4
    out = run("orders", path, "--replace-range")
    assert "replacing 3 raw rows" in out
    assert totals("orders") == once
    # Without it the points are added again.
    run("orders", path)
    assert totals("orders")["day"] == (7, 66.0)


def test_replace_range_keeps_other_days_and_buckets(tmp_path):
    OrderCountFactory(plan="pro", value=9, created=dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    OrderCountFactory(plan="pro", value=3, created=dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC))
    run("orders", write(tmp_path, ORDERS), "--replace-range")
    days = dict(
        Rollup.objects.filter(monitor="orders", resolution="day")
        .values("start")
        .annotate(s=Sum("sum"))
        .values_list("start", "s")
    )
    assert sorted(days.values()) == [3.0, 3.0, 5.0, 9.0]  # 1st, 9th, 10th, 20th
    assert totals("orders")["hour"] == (5, 20.0)


@pytest.mark.parametrize(
    ("name", "model", "points"),
    [
        ("orders", MonitorOrderCount, [(1, {"plan": "pro"}), (4, {"plan": "team"}), (2, {})]),
        ("queue_length", MonitorQueueLength, [(12, {}), (0, {}), (-3, {}), (40, {})]),
        ("load_average", MonitorLoadAverage, [(0.25, {}), (1e-7, {}), (3.75, {}), (1 / 3, {})]),
        ("request_time", MonitorRequestTime, [(3.0, {}), (8.5, {}), (120.25, {}), (0.0004, {})]),
    ],
)
def test_export_then_import_into_an_empty_monitor_gives_the_same_series(
    freeze_now, name, model, points
):
    freeze_now(NOW)
    # Oldest first, as the file lists them: float sums then add up in the same order.
    for i, (value, dimensions) in reversed(list(enumerate(points * 5, start=1))):
        at = NOW - dt.timedelta(hours=3 * i, minutes=7 * i, microseconds=i)
        monitor.get(name).add(value, at=at, **dimensions)
    params = ["--range", "7d", "--format", "json"]
    before = {
        res: json.loads(export(name, *params, "--resolution", res)) for res in ("hour", "day")
    }
    raw = export(name, "--format", "raw", "--range", "30d")
    wipe(model, name)
    assert json.loads(export(name, *params))["summary"]["value"] in (None, 0)
    assert f"Imported {len(points) * 5} points" in run(name, "-", stdin=StringIO(raw))
    after = {res: json.loads(export(name, *params, "--resolution", res)) for res in ("hour", "day")}
    for res in before:
        for key in before[res]:
            assert (res, key, after[res][key]) == (res, key, before[res][key])
    assert export(name, "--format", "raw", "--range", "30d") == raw
