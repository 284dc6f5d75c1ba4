#!/usr/bin/env python
"""Benchmark the storage engine against its baselines, measured in the same run.

    .venv/bin/python bench/storage.py            # the figures in docs/performance.rst
    .venv/bin/python bench/storage.py --quick    # a smoke run of a few seconds

Everything runs against a fresh SQLite file in a temporary directory:

1. ``add()`` amortised, flush to the file included, over N calls, for 1 and
   for 50 count monitors, against ``prometheus_client.Counter.inc()`` (target
   at most 5x) and against one ``objects.create()`` per call (target at least
   250x faster; measured on fewer calls and compared per call).
2. A 90-day chart of a monitor holding M events, at hour and at day
   resolution, against Django's ``TruncHour``/``TruncDay`` + ``Sum`` over the
   raw rows (target at most 1/400 of that time).
3. Peak memory (tracemalloc) while ``add()`` runs at 1M calls per minute.
4. The targets of issue #8, each against a baseline measured in the same run:
   the extra worker time of a view that calls ``add(1)`` once against the
   same view without it (test client, 5 interleaved rounds, median and
   range) and the queries on the request's thread; caller-thread CPU of
   ``add(1)`` and ``add(1, plan='pro')`` against ``Counter.inc()`` (5
   interleaved rounds); total process CPU per event, flush included; 1M
   ``add()`` in one loop in a child process, then exit (rows stored, peak RSS
   growth); 4 child processes adding flat out for 30 s (rows persisted per
   second until the last one exited, points dropped).

``--postgres`` measures the PostgreSQL rows of that table instead (process
and server CPU per event, the request path, 4 processes flat out) on the
server the usual PG* variables name, in a scratch database it creates and
drops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(directory: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "test_app.settings"
    os.environ["MONITORING_SQLITE_NAME"] = os.path.join(directory, "bench.sqlite3")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log in memory
    os.environ.pop("MONITORING_TEST_DB", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def print_flat_out(flat: list, rows: int, seconds: float, planned: float) -> None:
    """Print the 4-processes-flat-out line: persisted, rate and dropped against the target."""
    added = sum(r[0] for r in flat)
    dropped = sum(r[1] for r in flat)
    rate = rows / seconds
    print(
        f"  4 processes adding flat out for {planned:.0f} s: {rows:,} of "
        f"{added:,.0f} persisted ({rate:,.0f}/s until the last exited), "
        f"{dropped:.0f} dropped; target >= 100k/s, 0 dropped: "
        f"{verdict(rate >= 100_000 and dropped == 0 and rows == added)}"
    )


def setup_postgres() -> str:
    """Create a scratch database on the PG* server, point Django at it, migrate; return its name."""
    import psycopg

    name = f"monitoring_bench_{os.getpid()}"
    with psycopg.connect(dbname=os.environ.get("PGDATABASE", "postgres"), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    os.environ["PGDATABASE"] = name
    os.environ["MONITORING_TEST_DB"] = "postgres"
    os.environ["DJANGO_SETTINGS_MODULE"] = "test_app.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name


def drop_postgres(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(dbname="postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def backend_cpu(pid: int) -> float:
    """Return the CPU seconds a PostgreSQL backend process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_event_cost(calls: int, rounds: int, model) -> tuple[list[float], list[float]]:
    """Process CPU and server CPU (PostgreSQL backend; SQLite: none) per event, flush included.

    The background thread never runs: the main thread flushes, so its
    backend is the one that did all the server work of the flush.
    """
    from django.db import connection
    from django.test.utils import override_settings

    from monitoring.register import monitor
    from monitoring.storage import buffer

    add = monitor.get_for_model(model).add
    client, server = [], []
    settings = {
        "MONITORING_BUFFER_MAX": calls + 1,
        "MONITORING_BUFFER_SIZE": calls + 1,
        "MONITORING_FLUSH_INTERVAL": 3600,
    }
    with override_settings(**settings):
        for _ in range(rounds):
            buffer.reset()
            pid = None
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    pid = cursor.fetchone()[0]
            gc.collect()
            server_start = backend_cpu(pid) if pid else 0.0
            start = time.process_time()
            for _ in range(calls):
                add(1)
            assert monitor.flush() == calls
            client.append(per_call(time.process_time() - start, calls))
            server.append(per_call(backend_cpu(pid) - server_start, calls) if pid else 0.0)
    buffer.reset()
    return client, server


def main_postgres(quick: bool) -> None:
    """Measure the PostgreSQL rows of issue #8's table on the server the PG* variables name."""
    name = setup_postgres()
    try:
        import django
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(
            f"django-monitoring storage benchmark, PostgreSQL rows: Python "
            f"{sys.version.split()[0]}, Django {django.get_version()}, PostgreSQL {version} "
            f"on {os.environ.get('PGHOST', 'localhost')}, {os.cpu_count()} CPUs"
        )
        model = make_models(1, "BenchPg")[0]
        calls = 20_000 if quick else 200_000
        client, server = bench_event_cost(calls, 5, model)
        request = bench_request(100 if quick else 1000, 5)
        from test_app.models import MonitorUserCount

        MonitorUserCount.objects.all()._raw_delete("default")  # the request bench's points
        connection.close()
        flat_seconds = 3.0 if quick else 30.0
        flat_s, flat = run_children("flat", flat_seconds, 4)
        flat_rows = MonitorUserCount.objects.count()
        print()
        print("Targets of issue #8 on PostgreSQL (5 rounds: median (min-max))")
        print(
            f"  per event, flush included ({calls:,} add(1) then flush, COPY): process CPU "
            f"{spread(client)} µs, target <= 2: {verdict(statistics.median(client) <= 2)}; "
            f"server CPU {spread(server)} µs, target <= 4: "
            f"{verdict(statistics.median(server) <= 4)}"
        )
        extra = statistics.median(request["extra"])
        print(
            f"  view calling add(1) once vs without: extra {spread(request['extra'])} µs over "
            f"{spread(request['plain'])} µs, {request['queries']} queries on the request "
            f"thread; target <= +10 µs, no I/O: {verdict(extra <= 10 and not request['queries'])}"
        )
        print_flat_out(flat, flat_rows, flat_s, flat_seconds)
    finally:
        drop_postgres(name)


def make_models(count: int, prefix: str) -> list:
    """Create ``count`` count-monitor models with their tables, registered as monitors."""
    from django.db import connection

    from monitoring.models import IntegerCountBase
    from monitoring.register import monitor
    from monitoring.views import IntegerCountView

    models = []
    with connection.schema_editor() as editor:
        for i in range(count):
            model = type(f"{prefix}{i}", (IntegerCountBase,), {"__module__": "test_app.models"})
            editor.create_model(model)
            monitor.register(f"{prefix.lower()}-{i}", IntegerCountView.as_view(model=model))
            models.append(model)
    return models


def per_call(seconds: float, calls: int) -> float:
    return seconds / calls * 1e6  # microseconds


def bench_prometheus(calls: int, monitors: int) -> float:
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    counters = [
        Counter(f"bench_{monitors}_{i}", "bench", registry=registry) for i in range(monitors)
    ]
    incs = [counter.inc for counter in counters]
    gc.collect()
    start = time.perf_counter()
    if monitors == 1:
        inc = incs[0]
        for _ in range(calls):
            inc()
    else:
        for i in range(calls):
            incs[i % monitors]()
    return per_call(time.perf_counter() - start, calls)


def bench_add(calls: int, models: list) -> tuple[float, dict, float]:
    from django.test.utils import override_settings

    from monitoring.register import monitor
    from monitoring.storage import buffer

    handles = [monitor.get_for_model(model) for model in models]
    adds = [handle.add for handle in handles]
    buffer.reset()
    gc.collect()
    # A tight loop adds faster than one process can write, so let the buffer hold
    # every call: the time then includes writing all of them, none dropped.
    with override_settings(MONITORING_BUFFER_MAX=calls + 1):
        cpu_start = time.process_time()
        start = time.perf_counter()
        if len(adds) == 1:
            add = adds[0]
            for _ in range(calls):
                add()
        else:
            count = len(adds)
            for i in range(calls):
                adds[i % count]()
        monitor.flush()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    stats = buffer.stats()
    buffer.reset()
    written = sum(model.objects.count() for model in models)
    assert written + stats["dropped"] == calls, (written, stats)
    return per_call(elapsed, calls), stats, per_call(cpu, calls)


def bench_caller_cpu(calls: int, rounds: int, model, plan_model) -> dict[str, list[float]]:
    """Caller-thread CPU per call (µs) of add(1), add(1, plan='pro') and Counter.inc().

    Interleaved rounds, measured with time.thread_time(): the flusher's work on
    its own thread is not counted, which is what the caller pays.
    """
    from django.test.utils import override_settings
    from prometheus_client import CollectorRegistry, Counter

    from monitoring.register import monitor
    from monitoring.storage import buffer

    inc = Counter("bench_cpu", "bench", registry=CollectorRegistry()).inc
    add = monitor.get_for_model(model).add
    add_plan = monitor.get_for_model(plan_model).add
    cases = {
        "inc": lambda: [inc() for _ in range(calls)],
        "add(1)": lambda: [add(1) for _ in range(calls)],
        "add(1, plan='pro')": lambda: [add_plan(1, plan="pro") for _ in range(calls)],
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    with override_settings(MONITORING_BUFFER_MAX=calls * 3 + 1, MONITORING_BUFFER_SIZE=calls * 3):
        for _ in range(rounds):
            for name, run in cases.items():
                gc.collect()
                start = time.thread_time()
                run()
                results[name].append((time.thread_time() - start) / calls * 1e6)
            monitor.flush()
    buffer.reset()
    return results


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def bench_request(requests: int, rounds: int) -> dict[str, Any]:
    """Worker time of a view that calls add(1) once against the same view without it.

    Django's test client, buffered mode (the default), interleaved rounds;
    also counts the queries run on the request's thread (target: none).
    """
    import types

    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import path

    from monitoring.register import monitor
    from monitoring.storage import buffer

    handle = monitor.get("user_count")

    def with_add(request):
        handle.add(1)
        return HttpResponse("ok")

    def without(request):
        return HttpResponse("ok")

    urls = types.ModuleType("bench_urls")
    urls.urlpatterns = [path("add/", with_add), path("plain/", without)]
    client = Client()
    results: dict[str, list[float]] = {"plain": [], "add": []}
    buffer.reset()
    with override_settings(ROOT_URLCONF=urls):
        for name in ("plain", "add"):  # warm up
            client.get(f"/{name}/")
        with CaptureQueriesContext(connection) as queries:
            for _ in range(50):
                client.get("/add/")
        for _ in range(rounds):
            for name in ("plain", "add"):
                times = []
                for _ in range(requests):
                    start = time.perf_counter()
                    client.get(f"/{name}/")
                    times.append(time.perf_counter() - start)
                results[name].append(statistics.median(times) * 1e6)
        monitor.flush()
    buffer.reset()
    extra = [a - p for a, p in zip(results["add"], results["plain"], strict=True)]
    return {"extra": extra, "plain": results["plain"], "queries": len(queries)}


CHILD = """
import os, resource, sys, time
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "test_app.settings"
import django
django.setup()
from monitoring.register import monitor
from monitoring.storage import stats
mode, amount = sys.argv[1], float(sys.argv[2])
add = monitor.get("user_count").add
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
added = 0
if mode == "burst":
    for _ in range(int(amount)):
        add(1)
    added = int(amount)
else:
    end = time.monotonic() + amount
    while time.monotonic() < end:
        for _ in range(1000):
            add(1)
        added += 1000
monitor.flush()
s = stats()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(added, s["dropped"], s["rejected"], (after - before) / 1024, flush=True)
"""


def run_children(mode: str, amount: float, processes: int) -> tuple[float, list[list[float]]]:
    """Run ``processes`` children adding to user_count; return (seconds, their reports)."""
    import subprocess

    code = CHILD.format(root=str(ROOT))
    env = {**os.environ, "DJANGO_DEBUG": "0"}
    start = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, mode, str(amount)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=900)
        reports.append([float(x) for x in out.split()])
    return time.perf_counter() - start, reports


def bench_naive_create(calls: int, model) -> float:
    manager = model.objects
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        manager.create(value=1)
    return per_call(time.perf_counter() - start, calls)


def fill_chart_monitor(events: int, model, name: str, end: dt.datetime) -> None:
    """Write ``events`` points over the 90 days before ``end`` through the flush path."""
    from monitoring.conf import conf
    from monitoring.storage.writer import write_points

    span_ns = 90 * 86400 * 10**9
    end_ns = int(end.timestamp() * 10**9)
    chunk = 50_000
    for first in range(0, events, chunk):
        points = [
            (model._point_key, 1, end_ns - span_ns * (2 * i + 1) // (2 * events), None)
            for i in range(first, min(first + chunk, events))
        ]
        write_points(points, conf.DATABASE)


def timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_chart(events: int, model, name: str, naive_repeat: int) -> dict[str, tuple]:
    from django.db.models import Sum
    from django.db.models.functions import TruncDay, TruncHour
    from django.utils import timezone

    from monitoring.buckets import site_timezone
    from monitoring.queries import get_series

    end = timezone.now()
    start = end - dt.timedelta(days=90)
    fill_chart_monitor(events, model, name, end)
    results = {}
    for resolution, trunc in (("hour", TruncHour), ("day", TruncDay)):

        def naive(trunc=trunc):
            rows = (
                model.objects.filter(created__gte=start, created__lt=end)
                .annotate(bucket=trunc("created", tzinfo=site_timezone()))
                .values("bucket")
                .annotate(total=Sum("value"))
                .order_by("bucket")
            )
            return list(rows)

        def ours(resolution=resolution):
            return get_series(name, start=start, end=end, resolution=resolution)

        naive_total = sum(row["total"] for row in naive())
        series = ours()
        assert sum(series.values["sum"]) == events == naive_total, (
            sum(series.values["sum"]),
            naive_total,
        )
        results[resolution] = (timed(ours, 7) * 1000, timed(naive, naive_repeat) * 1000)
    return results


def bench_memory(seconds: float, rate_per_minute: int, model) -> tuple[float, int, dict]:
    """Add at ``rate_per_minute`` for ``seconds`` under tracemalloc; return peak MB."""
    from monitoring.register import monitor
    from monitoring.storage import buffer

    add = monitor.get_for_model(model).add
    buffer.reset()
    per_second = rate_per_minute / 60
    tick = 0.01
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    added = 0
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start + tick) * per_second)
        while added < due:
            add()
            added += 1
        time.sleep(max(0.0, start + (added / per_second) - time.perf_counter()))
    monitor.flush()
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    stats = buffer.stats()
    buffer.reset()
    return peak / 2**20, added, stats


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes: a smoke run.")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="Measure the PostgreSQL rows instead, on the server the PG* variables name "
        "(a scratch database is created and dropped).",
    )
    args = parser.parse_args()
    if args.postgres:
        main_postgres(args.quick)
        return
    calls = 20_000 if args.quick else 1_000_000
    naive_calls = 300 if args.quick else 3_000
    events = 20_000 if args.quick else 1_000_000
    memory_seconds = 2.0 if args.quick else 30.0
    naive_repeat = 1 if args.quick else 3

    with tempfile.TemporaryDirectory() as directory:
        setup_django(directory)
        import django
        from django.db import connection

        print(
            f"django-monitoring storage benchmark: Python {sys.version.split()[0]}, "
            f"Django {django.get_version()}, SQLite {connection.Database.sqlite_version}, "
            f"{os.cpu_count()} CPUs, file {os.environ['MONITORING_SQLITE_NAME']}"
        )
        one = make_models(1, "BenchOne")
        fifty = make_models(50, "BenchFifty")
        naive_model = make_models(1, "BenchNaive")[0]
        chart_model = make_models(1, "BenchChart")[0]
        memory_model = make_models(1, "BenchMemory")[0]
        from test_app.models import MonitorOrderCount

        cpu_model = make_models(1, "BenchCpu")[0]
        cpu = bench_caller_cpu(20_000 if args.quick else 200_000, 5, cpu_model, MonitorOrderCount)

        prom_1 = bench_prometheus(calls, 1)
        prom_50 = bench_prometheus(calls, 50)
        event_model = make_models(1, "BenchEvent")[0]
        event_cpu, _ = bench_event_cost(20_000 if args.quick else 200_000, 5, event_model)
        add_1, stats_1, _ = bench_add(calls, one)
        add_50, stats_50, _ = bench_add(calls, fifty)
        request = bench_request(100 if args.quick else 1000, 5)
        from django.db import connection as main_connection

        from test_app.models import MonitorUserCount

        MonitorUserCount.objects.all()._raw_delete("default")  # the request bench's points
        main_connection.close()  # the children write to the same file
        burst_n = 100_000 if args.quick else 1_000_000
        burst_s, burst = run_children("burst", burst_n, 1)

        burst_rows = MonitorUserCount.objects.count()
        MonitorUserCount.objects.all()._raw_delete("default")
        main_connection.close()
        flat_seconds = 3.0 if args.quick else 30.0
        flat_s, flat = run_children("flat", flat_seconds, 4)
        flat_rows = MonitorUserCount.objects.count()
        naive = bench_naive_create(naive_calls, naive_model)
        chart = bench_chart(events, chart_model, "benchchart-0", naive_repeat)
        peak_mb, memory_added, memory_stats = bench_memory(memory_seconds, 1_000_000, memory_model)

    if args.quick:
        print(
            "--quick: a smoke run; its sizes are too small to judge the targets "
            "(the full run's figures are in docs/performance.rst)."
        )
    print()
    print("Targets of issue #8 (SQLite file; PostgreSQL rows: bench/storage.py --postgres)")
    extra = statistics.median(request["extra"])
    print(
        f"  view calling add(1) once vs the same view without it: extra worker time "
        f"{spread(request['extra'])} µs over {spread(request['plain'])} µs, "
        f"{request['queries']} queries on the request thread; target <= +10 µs, no I/O: "
        f"{verdict(extra <= 10 and request['queries'] == 0)}"
    )
    print(
        f"  total process CPU per event, flush included (add(1) then flush, 5 rounds): "
        f"{spread(event_cpu)} µs; target <= 4 µs: {verdict(statistics.median(event_cpu) <= 4)}"
    )
    added, dropped, rejected, rss_mb = burst[0]
    print(
        f"  {burst_n:,} add() in one loop, then exit: {burst_rows:,} stored, "
        f"{dropped:.0f} dropped, peak RSS growth {rss_mb:.1f} MB in {burst_s:.1f} s; "
        f"target all stored, <= 64 MB: "
        f"{verdict(burst_rows == burst_n and rss_mb <= 64)}"
    )
    print_flat_out(flat, flat_rows, flat_s, flat_seconds)
    print()
    print("Caller-thread CPU per call (time.thread_time), 5 interleaved rounds: median (min-max)")
    for name, values in cpu.items():
        ratios = [v / i for v, i in zip(values, cpu["inc"], strict=True)]
        target = {"add(1)": 2, "add(1, plan='pro')": 4}.get(name)
        verdict_text = (
            f"ratio {spread(ratios)}x, target <= {target}x: "
            f"{verdict(statistics.median(ratios) <= target)}"
            if target
            else "baseline"
        )
        print(f"  {name:<22}{spread(values):>28} µs  {verdict_text}")
    print()
    print(
        f"add(): {calls:,} calls in a tight loop, flush to the SQLite file included "
        f"(MONITORING_BUFFER_MAX raised to hold them all)"
    )
    print(f"  {'case':<44}{'µs/call':>10}{'ratio':>12}  target")
    rows = [
        ("prometheus_client Counter.inc(), 1 counter", prom_1, None, ""),
        ("prometheus_client Counter.inc(), 50 counters", prom_50, None, ""),
        (
            f"objects.create() per call ({naive_calls:,} calls)",
            naive,
            None,
            "",
        ),
        (
            "add(), 1 monitor (vs inc)",
            add_1,
            add_1 / prom_1,
            f"<= 5x: {verdict(add_1 / prom_1 <= 5)}",
        ),
        (
            "add(), 50 monitors (vs inc)",
            add_50,
            add_50 / prom_50,
            f"<= 5x: {verdict(add_50 / prom_50 <= 5)}",
        ),
        (
            "add(), 1 monitor: faster than create()",
            add_1,
            naive / add_1,
            f">= 250x: {verdict(naive / add_1 >= 250)}",
        ),
        (
            "add(), 50 monitors: faster than create()",
            add_50,
            naive / add_50,
            f">= 250x: {verdict(naive / add_50 >= 250)}",
        ),
    ]
    for label, micro, ratio, target in rows:
        ratio_text = f"{ratio:,.1f}x" if ratio is not None else ""
        print(f"  {label:<44}{micro:>10.2f}{ratio_text:>12}  {target}")
    for label, stats in (("1 monitor", stats_1), ("50 monitors", stats_50)):
        print(
            f"  ({label}: {stats['written']:,} written, {stats['dropped']:,} dropped, "
            f"{stats['failed_flushes']} failed flushes)"
        )
    print()
    print(f"90-day chart of a monitor with {events:,} events (median of runs)")
    print(f"  {'resolution':<12}{'get_series ms':>16}{'Trunc+Sum ms':>16}{'ratio':>12}  target")
    for resolution, (ours, naive_ms) in chart.items():
        ratio = ours / naive_ms
        print(
            f"  {resolution:<12}{ours:>16.2f}{naive_ms:>16.1f}{f'1/{1 / ratio:,.0f}':>12}  "
            f"<= 1/400: {verdict(ratio <= 1 / 400)}"
        )
    print()
    print(
        f"Buffer memory at 1M add()/minute for {memory_seconds:.0f} s "
        f"({memory_added:,} calls, {memory_stats['dropped']} dropped): "
        f"peak {peak_mb:.2f} MB traced"
    )


if __name__ == "__main__":
    main()
