#!/usr/bin/env python
"""Benchmark the built-in request and database middleware against no middleware, in one run.

    .venv/bin/python bench/middleware.py            # the figures in docs/performance.rst
    .venv/bin/python bench/middleware.py --quick    # a smoke run of a few seconds

Three WSGI handlers answer the same trivial view from a fresh SQLite file:
``bare`` (Django's own middleware only), ``requests`` (plus
``MonitoringMiddleware`` first) and ``requests+db`` (plus ``QueryMiddleware``).
Each round times every handler on the same number of requests, interleaved
request by request, with the write buffer on as in production: the worker
time per request is what a caller pays, and the background flusher's work is
not on it. Reported per variant: the extra p50 and p99 worker time per
request over ``bare`` and the ratio, as the median and the spread (min-max)
over the rounds. Target: at most 5% (about 15 us here) at p50 and p99.
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.storage import setup_django  # noqa: E402 - after the path that finds it

BASE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
REQUESTS = "monitoring.contrib.requests.middleware.MonitoringMiddleware"
QUERIES = "monitoring.contrib.database.middleware.QueryMiddleware"
VARIANTS = {
    "bare": BASE_MIDDLEWARE,
    "requests": [REQUESTS, *BASE_MIDDLEWARE],
    "requests+db": [REQUESTS, *BASE_MIDDLEWARE, QUERIES],
}


def handlers() -> dict:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    built = {}
    for name, middleware in VARIANTS.items():
        with override_settings(MIDDLEWARE=middleware):
            handler = WSGIHandler()
        built[name] = handler
    return built


def environ() -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/trivial/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def start_response(status, headers, exc_info=None):
    assert status.startswith("200"), status


def one(handler) -> int:
    """Return the worker time of one request in ns: the handler and closing its response."""
    env = environ()
    start = time.perf_counter_ns()
    response = handler(env, start_response)
    for _chunk in response:
        pass
    response.close()  # sends request_finished, as a WSGI server does
    return time.perf_counter_ns() - start


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000  # us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="a few seconds; judges nothing")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=3000, help="per variant and round")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.requests = 2, 200

    with tempfile.TemporaryDirectory() as directory:
        setup_django(directory)
        from django.test import override_settings

        from monitoring.storage import buffer

        with override_settings(
            MONITORING_BUFFER=True,
            MONITORING_PRUNE_INTERVAL=None,
            ROOT_URLCONF="bench.urls_trivial",
        ):
            built = handlers()
            for handler in built.values():  # warm up: imports, URL resolver, connections
                for _ in range(50):
                    one(handler)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in built}
            for _round in range(args.rounds):
                times: dict[str, list[int]] = {name: [] for name in built}
                gc.collect()
                for _ in range(args.requests):
                    for name, handler in built.items():
                        times[name].append(one(handler))
                for name, values in times.items():
                    results[name].append((percentile(values, 0.5), percentile(values, 0.99)))
            buffer.flush()

        from monitoring.contrib.requests.models import RequestCount

        recorded = sum(row.value for row in RequestCount.objects.all())
        expected = args.rounds * args.requests * 2 + 100
        print(
            f"middleware overhead per request, {args.rounds} rounds x {args.requests} requests "
            f"per variant, interleaved; SQLite file, buffered add()"
        )
        print(f"requests recorded: {recorded} of {expected}")
        bare = results["bare"]
        print(f"{'variant':<13} {'p50 us':>8} {'p99 us':>8} {'+p50 us':>18} {'+p99 us':>18}"
              f" {'p50 ratio':>10} {'p99 ratio':>10}")  # fmt: skip
        for name, rounds in results.items():
            p50 = statistics.median(r[0] for r in rounds)
            p99 = statistics.median(r[1] for r in rounds)
            d50 = [r[0] - b[0] for r, b in zip(rounds, bare, strict=True)]
            d99 = [r[1] - b[1] for r, b in zip(rounds, bare, strict=True)]
            r50 = statistics.median(r[0] / b[0] for r, b in zip(rounds, bare, strict=True))
            r99 = statistics.median(r[1] / b[1] for r, b in zip(rounds, bare, strict=True))
            print(
                f"{name:<13} {p50:8.1f} {p99:8.1f} "
                f"{statistics.median(d50):7.1f} [{min(d50):5.1f},{max(d50):5.1f}] "
                f"{statistics.median(d99):7.1f} [{min(d99):5.1f},{max(d99):5.1f}] "
                f"{r50:10.3f} {r99:10.3f}"
            )
        if args.quick:
            print("(--quick: too few requests to judge the targets)")


if __name__ == "__main__":
    main()
