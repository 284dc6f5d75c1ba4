"""A separate process that adds data points, for the storage tests.

    python tests/storage_worker.py POINTS [--size N] [--flush-every N]

It adds POINTS points to ``orders`` (split over plans) and ``request_time``
at a few fixed instants shared by every worker, so that all workers upsert
the same rollup rows, and exits without calling flush: the exit flush (and
the size trigger, with --size) must write everything.
"""

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")

django.setup()

from django.test.utils import override_settings  # noqa: E402

from monitoring.register import monitor  # noqa: E402

#: The instants every worker adds at: two hours, around a minute edge.
INSTANTS = [
    dt.datetime(2024, 6, 3, 12, 0, 0, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 6, 3, 12, 0, 59, 999999, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 6, 3, 13, 30, tzinfo=dt.timezone.utc),
]
PLANS = ["free", "pro", "team"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("points", type=int)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--flush-every", type=int, default=0)
    parser.add_argument(
        "--sigterm", action="store_true", help="flush_on_sigterm(), add, then wait to be killed"
    )
    args = parser.parse_args()
    override_settings(
        MONITORING_BUFFER=True,
        MONITORING_BUFFER_SIZE=args.size,
        MONITORING_BUFFER_MAX=10_000_000,
        MONITORING_FLUSH_INTERVAL=3600,
    ).enable()
    if args.sigterm:
        from monitoring.storage import flush_on_sigterm

        flush_on_sigterm()
    orders, timings = monitor.get("orders"), monitor.get("request_time")
    for i in range(args.points):
        at = INSTANTS[i % len(INSTANTS)]
        orders.add(1, at=at, plan=PLANS[i % len(PLANS)])
        timings.add(float(i % 100 + 1), at=at)
        if args.flush_every and i % args.flush_every == 0:
            monitor.flush()
    print("added", args.points, flush=True)
    if args.sigterm:
        import time

        time.sleep(120)  # the test sends SIGTERM long before


if __name__ == "__main__":
    main()
