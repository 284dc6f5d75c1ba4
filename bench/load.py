#!/usr/bin/env python
"""Load through real servers on PostgreSQL: throughput and latency with and without monitoring.

    PGHOST=127.0.0.1 PGPORT=... PGUSER=postgres .venv/bin/python bench/load.py    # 60 s each
    .venv/bin/python bench/load.py --seconds 10                               # shorter

Creates a database ``monitoring_load`` on the server the PG* variables name
(dropped at the end), migrates it, and for each server kind (gunicorn with 4
sync workers; uvicorn with 2 workers, ASGI, an async view) serves test_app on
127.0.0.1 twice: with monitoring (its request and query middleware on, the
view adding 1 to ``user_count``) and bare (neither middleware, a view that
adds nothing). 8 client threads drive each, in interleaved rounds of 10 s,
for ``--seconds`` per variant. Printed per variant: requests per second,
p50 and p99 latency (median over the rounds, with their min-max), and for
the monitored variants whether the stored total equals the answered
requests exactly. The generator is tests/server.py's (urllib in threads);
the machine's two cores are shared by the servers and the clients.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Server, drive  # noqa: E402

DATABASE = "monitoring_load"


def psql(sql: str, dbname: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(dbname=dbname, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="per variant")
    parser.add_argument("--round", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(f"CREATE DATABASE {DATABASE}")
    env = {
        **os.environ,
        "MONITORING_TEST_DB": "postgres",
        "PGDATABASE": DATABASE,
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, str(ROOT / "test_app" / "manage.py"), "migrate", "-v", "0"],
        env={**env, "DJANGO_SETTINGS_MODULE": "test_app.settings"},
        check=True,
    )
    rows = []
    try:
        for kind, path in (("gunicorn 4 sync", "/load/add/"), ("uvicorn ASGI", "/load/async-add/")):
            start = {"gunicorn 4 sync": lambda e: Server.gunicorn(4, e)}.get(
                kind, lambda e: Server.uvicorn(2, e)
            )
            psql("DELETE FROM test_app_monitorusercount", DATABASE)
            psql("DELETE FROM monitoring_rollup", DATABASE)
            monitored = start(env)
            bare = start({**env, "MONITORING_TEST_BARE": "1"})
            results = {"monitored": [], "bare": []}
            answered = 0
            try:
                rounds = max(1, round(args.seconds / args.round))
                for _ in range(rounds):
                    for name, server, url in (
                        ("bare", bare, "/load/plain/"),
                        ("monitored", monitored, path),
                    ):
                        load = drive(server, [url], args.round, clients=args.clients)
                        latencies = load.latencies.get(url, [])
                        results[name].append(
                            (
                                len(latencies) / args.round,
                                percentile(latencies, 0.5) * 1000,
                                percentile(latencies, 0.99) * 1000,
                                len(load.failures),
                            )
                        )
                        if name == "monitored":
                            answered += load.count(url)
            finally:
                monitored.stop()
                bare.stop()
            stored = psql("SELECT count(*) FROM test_app_monitorusercount", DATABASE)[0][0]
            rolled = psql(
                "SELECT coalesce(sum(count), 0) FROM monitoring_rollup "
                "WHERE monitor = 'user_count' AND resolution = 'minute'",
                DATABASE,
            )[0][0]
            for name in ("bare", "monitored"):
                series = results[name]
                row = [kind, name]
                for index in range(3):
                    column = [r[index] for r in series]
                    row.append(
                        f"{statistics.median(column):.1f} ({min(column):.1f}-{max(column):.1f})"
                    )
                row.append(str(sum(r[3] for r in series)))
                exact = stored == answered == rolled if name == "monitored" else None
                row.append("" if exact is None else f"{'yes' if exact else 'NO'} ({answered})")
                rows.append(row)
    finally:
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    header = ["server", "variant", "req/s", "p50 ms", "p99 ms", "failures", "exact total"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
