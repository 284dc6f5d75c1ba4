#!/usr/bin/env python
"""Benchmark charts of an existing table (``monitor.register_model()``).

    .venv/bin/python bench/register_model.py [--rows 1000000] [--days 90] [--rounds 5]

Fills the demo's ``test_app.Order`` table (``placed`` indexed) with --rows
orders spread at random over the last --days days, in a fresh SQLite file;
then, with the PG* variables set, does the same on that PostgreSQL server in
a scratch database it creates and drops (``--postgres`` runs only that).

It charts the table as the dashboard does (``get_series`` with the cache
off): the last 24 hours, 7 days and 90 days, and 90 days split by plan,
``Count`` per bucket in the site's time zone (Europe/Berlin). The baseline,
timed in the same interleaved rounds, is ``SELECT COUNT(*)`` of the whole
table: one pass over every row without grouping. It prints, per chart, the
median time over the rounds, the range (min-max) and the ratio to the
baseline, then a cached chart, then the 90-day charts again with an index
on (placed, plan) added, then the query plan of the 24-hour and the 90-day
grouping (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN ANALYZE`` on
PostgreSQL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The scratch PostgreSQL database of the storage bench, made and dropped the same way.
from bench.storage import drop_postgres, setup_postgres  # noqa: E402

PLANS = ["free", "pro", "team"]
PRICES = {"free": Decimal("9.00"), "pro": Decimal("29.00"), "team": Decimal("99.00")}
BASELINE = "baseline: Django TruncDay, 90d"
CHARTS = [
    ("24h", dt.timedelta(hours=24), None),
    ("7d", dt.timedelta(days=7), None),
    ("90d", dt.timedelta(days=90), None),
    ("90d split", dt.timedelta(days=90), "plan"),
]


def setup_sqlite(directory: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "test_app.settings"
    os.environ["MONITORING_SQLITE_NAME"] = os.path.join(directory, "bench.sqlite3")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.pop("MONITORING_TEST_DB", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(rows: int, days: int, end: dt.datetime) -> float:
    """Insert ``rows`` orders placed at random over ``days`` before ``end``; return seconds."""
    from django.db import connection, transaction

    from test_app.models import Order

    rng = random.Random(2013)
    span = days * 86400
    table = Order._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    started = time.perf_counter()
    batch = 50_000
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(0, rows, batch):
            values = []
            for _ in range(min(batch, rows - first)):
                plan = rng.choices(PLANS, weights=[6, 3, 1])[0]
                at = end - dt.timedelta(seconds=rng.random() * span)
                values.append((adapt(at), PRICES[plan], plan, True))
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(
                    f"COPY {table} (placed, total, plan, paid) FROM STDIN"
                ) as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO {table} (placed, total, plan, paid) VALUES (%s, %s, %s, %s)",
                    [(p, str(t), plan, paid) for p, t, plan, paid in values],
                )
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else f"ANALYZE {table}")
    return time.perf_counter() - started


def spread(values: list[float]) -> str:
    low, high = min(values) * 1000, max(values) * 1000
    return f"{statistics.median(values) * 1000:8.1f} ms ({low:.1f}-{high:.1f})"


def run(rows: int, days: int, rounds: int) -> None:
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import TruncDay
    from django.test.utils import override_settings

    from monitoring.buckets import site_timezone
    from monitoring.queries import get_series
    from monitoring.register import monitor
    from monitoring.tables import _Query
    from test_app.models import Order

    end = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    seconds = fill(rows, days, end)
    print(
        f"{connection.vendor}: {Order.objects.count():,} orders over {days} days "
        f"inserted in {seconds:.1f} s"
    )
    handle = monitor.register_model(
        "bench_orders", Order, date_field="placed", value=Count("pk"), dimensions=["plan"]
    )

    def baseline() -> None:
        rows = Order.objects.filter(placed__gte=end - dt.timedelta(days=90), placed__lt=end)
        day = TruncDay("placed", tzinfo=site_timezone())
        list(rows.annotate(day=day).values("day").annotate(n=Count("pk")).order_by())

    times: dict[str, list[float]] = {BASELINE: []}
    times.update({label: [] for label, _span, _split in CHARTS})
    with override_settings(MONITORING_TABLE_CACHE_TIMEOUT=0):
        for _ in range(rounds):
            started = time.perf_counter()
            baseline()
            times[BASELINE].append(time.perf_counter() - started)
            for label, span, split in CHARTS:
                started = time.perf_counter()
                series = get_series(handle, start=end - span, end=end, split_by=split)
                times[label].append(time.perf_counter() - started)
                assert series.summary > 0
    base = statistics.median(times[BASELINE])
    print(f"  {rounds} interleaved rounds; median (min-max), ratio to the baseline:")
    for label, values in times.items():
        ratio = statistics.median(values) / base
        print(f"  {label:34} {spread(values)}  x{ratio:.1f}")
    with override_settings(MONITORING_TABLE_CACHE_TIMEOUT=60):
        get_series(handle, start=end - dt.timedelta(days=90), end=end)
        cached = []
        for _ in range(rounds):
            started = time.perf_counter()
            get_series(handle, start=end - dt.timedelta(days=90), end=end)
            cached.append(time.perf_counter() - started)
    print(f"  {'90d, from the cache':34} {spread(cached)}")
    # A split reads the dimension too: with an index on (placed, plan) it reads only the
    # index, as the unsplit chart does with the index on placed.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE INDEX bench_placed_plan ON {Order._meta.db_table} (placed, plan)")
        cursor.execute(
            "ANALYZE" if connection.vendor == "sqlite" else f"ANALYZE {Order._meta.db_table}"
        )
    covered: dict[str, list[float]] = {"90d": [], "90d split": []}
    with override_settings(MONITORING_TABLE_CACHE_TIMEOUT=0):
        for _ in range(rounds):
            for label, split in (("90d", None), ("90d split", "plan")):
                started = time.perf_counter()
                get_series(handle, start=end - dt.timedelta(days=90), end=end, split_by=split)
                covered[label].append(time.perf_counter() - started)
    print("  with an index on (placed, plan) too:")
    for label, values in covered.items():
        print(f"  {label:34} {spread(values)}")
    for label, span, resolution in (
        ("24h", dt.timedelta(hours=24), "15min"),
        ("90d", dt.timedelta(days=90), "day"),
    ):
        query = _Query(handle, resolution, {})
        queryset = query.grouped_queryset(end - span, end)
        if connection.vendor == "postgresql":
            plan = queryset.explain(analyze=True)
        else:
            plan = queryset.explain()
        print(f"  query plan, {label} ({resolution} buckets), unsplit:")
        for line in plan.splitlines():
            print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="Run on PostgreSQL only.")
    args = parser.parse_args()
    if args.postgres:
        name = setup_postgres()
        try:
            run(args.rows, args.days, args.rounds)
        finally:
            drop_postgres(name)
        return
    with tempfile.TemporaryDirectory() as directory:
        setup_sqlite(directory)
        run(args.rows, args.days, args.rounds)
    if os.environ.get("PGHOST"):
        # One database backend per process: Django's settings are read once.
        command = [sys.executable, __file__, "--postgres", *sys.argv[1:]]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
