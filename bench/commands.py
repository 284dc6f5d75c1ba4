#!/usr/bin/env python
"""Benchmark monitoring_import and monitoring_export --format raw against the write path.

    .venv/bin/python bench/commands.py            # 100,000 points, 5 rounds
    .venv/bin/python bench/commands.py --quick    # a smoke run of a few seconds

On a fresh SQLite file in a temporary directory, in interleaved rounds
(median and range):

- baseline: the same points through ``add(value, at=..., plan=...)`` with
  the write buffer on, then ``monitor.flush()`` (raw rows and rollups);
- ``monitoring_import`` of a CSV file of those points (every line checked,
  then written as a flush writes them);
- ``monitoring_export --format raw`` of them back to a file.

Each figure is a ratio to the baseline's time in the same round, so the
machine's speed cancels out; the absolute times are printed beside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.storage import setup_django  # noqa: E402


def clear() -> None:
    from monitoring.models import Rollup, RollupBin
    from test_app.models import MonitorOrderCount

    for model in (MonitorOrderCount, Rollup, RollupBin):
        model.objects.all()._raw_delete("default")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes: a smoke run.")
    args = parser.parse_args()
    points, rounds = (5_000, 2) if args.quick else (100_000, 5)
    with tempfile.TemporaryDirectory() as directory:
        setup_django(directory)
        from django.core.management import call_command
        from django.test.utils import override_settings

        from monitoring.register import monitor
        from monitoring.storage import buffer

        start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        plans = ["free", "pro", "team"]
        rows = [
            (start + dt.timedelta(seconds=7 * i, microseconds=i), 1 + i % 4, plans[i % 3])
            for i in range(points)
        ]
        csv_path = Path(directory) / "orders.csv"
        csv_path.write_text(
            "at,value,plan\n"
            + "".join(f"{at.isoformat()},{value},{plan}\n" for at, value, plan in rows)
        )
        out_path = Path(directory) / "out.csv"
        handle = monitor.get("orders")
        times: dict[str, list[float]] = {"add": [], "import": [], "export": []}
        for _ in range(rounds):
            clear()
            with override_settings(MONITORING_BUFFER=True, MONITORING_FLUSH_INTERVAL=3600):
                buffer.reset()
                began = time.perf_counter()
                for at, value, plan in rows:
                    handle.add(value, at=at, plan=plan)
                monitor.flush()
                times["add"].append(time.perf_counter() - began)
                buffer.reset()
            clear()
            began = time.perf_counter()
            call_command(
                "monitoring_import", "orders", str(csv_path), stdout=io.StringIO(),
                stderr=io.StringIO(),
            )  # fmt: skip
            times["import"].append(time.perf_counter() - began)
            began = time.perf_counter()
            call_command(
                "monitoring_export", "orders", "--format", "raw", "--start", "2025-12-31",
                "--end", "2026-12-31", "-o", str(out_path), stderr=io.StringIO(),
            )  # fmt: skip
            times["export"].append(time.perf_counter() - began)
            assert len(out_path.read_text().splitlines()) == points + 1
        print(f"{points:,} points of a count monitor with one dimension, SQLite, {rounds} rounds:")
        base = times["add"]
        print(
            f"  baseline add() + flush: median {statistics.median(base):.2f} s "
            f"({statistics.median(base) / points * 1e6:.1f} µs/point)"
        )
        for name in ("import", "export"):
            ratios = [t / b for t, b in zip(times[name], base, strict=True)]
            label = "monitoring_import" if name == "import" else "monitoring_export --format raw"
            print(
                f"  {label}: median {statistics.median(times[name]):.2f} s "
                f"({statistics.median(times[name]) / points * 1e6:.1f} µs/point), "
                f"{statistics.median(ratios):.2f}x the baseline "
                f"(range {min(ratios):.2f}-{max(ratios):.2f})"
            )
        if args.quick:
            print("--quick: a smoke run; its sizes are too small to judge.")


if __name__ == "__main__":
    main()
