#!/usr/bin/env python
"""Load through real servers on PostgreSQL: throughput and latency with and without monitoring.

    apt-get install wrk       # the load generator (Debian's package); without it: urllib threads
    PGHOST=127.0.0.1 PGPORT=... PGUSER=postgres .venv/bin/python bench/load.py    # 60 s each
    .venv/bin/python bench/load.py --seconds 10                               # shorter

Creates a database ``monitoring_load`` on the server the PG* variables name
(dropped at the end), migrates it, logs a staff user in (a session cookie),
and for each server kind (gunicorn with 4 sync workers; uvicorn with 2
workers, ASGI, async views) serves test_app on 127.0.0.1 twice: monitored
(monitoring's request and query middleware on, the views adding to
monitors) and bare (neither middleware, the same views adding nothing).

The traffic, the same for both: per 20 requests, 10 to a view that calls
``add(1)`` without dimensions (``user_count``), 9 to one that calls it with a
dimension (``orders``, plan free/pro/team in turn), and 1 staff poll of a
monitor's JSON (``/monitoring/user_count/?format=json`` and
``/monitoring/orders/?format=json`` in turn, with the session cookie). On
the monitored server every request to the two views also goes through the
request middleware (the ``requests`` monitor); the JSON polls are
monitoring's own URLs, which it skips.

The generator is ``wrk`` (bench/load.lua) with 8 threads of one connection
each, every request with ``Connection: close`` (``--keep-alive`` keeps the
connections open; gunicorn's sync workers close them anyway, and uvicorn
serving Django answered each request on a kept-alive connection about 50
ms late on this machine, bare or monitored): the script times each request
and counts the 200s per kind, and in the last 3 s of each wrk run it
drains (requests ``/load/plain/``, which adds nothing), so the requests
wrk abandons at its end add nothing either. (The drain also lets the
flushers write every point before the servers stop: uvicorn ends its
workers without the exit flush, see docs/storage.rst; the urllib generator
loads them up to the stop.)
If ``wrk`` is not on the PATH (or with ``--generator urllib``), 8 urllib
threads of tests/server.py's ``drive()`` send the same mix; the output
names the generator that ran. The two variants of a server kind alternate
in rounds of ``--round`` seconds, for ``--seconds`` per variant. Printed per
variant: requests per second, p50 and p99 latency of the mix, p50 of the
polls (median over the rounds, with their min-max), failures, workers the
server replaced during the run (their unflushed points are lost, as with
SIGKILL), and for the monitored variants whether the stored totals equal
the counted 200s exactly: ``user_count`` and ``orders`` raw rows and every
rollup resolution, and the ``requests`` monitor's 2xx rows. The machine's
cores are shared by the servers, the generator and PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Server, drive  # noqa: E402

DATABASE = "monitoring_load"
DRAIN = 3.0  # seconds of wrk's run after the mix (see bench/load.lua)
POLLS = ["/monitoring/user_count/?format=json", "/monitoring/orders/?format=json"]
PLANS = ["free", "pro", "team"]
KINDS = {"gunicorn 4 sync": ("/load/add/", "/load/order/"),
         "uvicorn 2 ASGI": ("/load/async-add/", "/load/async-order/")}  # fmt: skip


def psql(sql: str, dbname: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(dbname=dbname, autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Round:
    """One generator run against one server: 200s per kind, latencies (ms), failures."""

    seconds: float
    ok: Counter = field(default_factory=Counter)
    ms: dict[str, list[float]] = field(default_factory=dict)
    failures: int = 0

    @property
    def rate(self) -> float:
        return sum(self.ok.values()) / self.seconds

    def latencies(self, *kinds: str) -> list[float]:
        return [v for kind in kinds or self.ms for v in self.ms.get(kind, [])]


def mix(add_path: str, order_path: str) -> list[tuple[str, str]]:
    """Return the (kind, path) of the mix as bench/load.lua sends it: 20 per poll, 2 polls."""
    paths = []
    for poll in POLLS:
        for i in range(1, 20):
            if i % 2:
                paths.append(("add", add_path))
            else:
                paths.append(("order", f"{order_path}?plan={PLANS[(i // 2 - 1) % 3]}"))
        paths.append(("poll", poll))
    return paths


def run_wrk(
    server: Server, seconds: float, clients: int, paths: tuple[str, str], session: str, close: bool
) -> Round:
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "out.tsv"
        command = ["wrk", f"-t{clients}", f"-c{clients}", f"-d{seconds + DRAIN:.0f}s",
                   "--timeout", "30s", "-s", str(ROOT / "bench" / "load.lua"),
                   server.url("/"), "--", str(out), str(seconds), *paths, session,
                   "close" if close else "keep-alive"]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        if run.returncode or not out.exists():
            raise RuntimeError(f"wrk failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        result = Round(seconds)
        mixed = []
        for line in out.read_text().splitlines():
            what, kind, value = line.split("\t")
            if what == "ok":
                result.ok[kind] += int(value)
            elif what in ("error", "lost") or kind == "socket_errors":
                result.failures += int(value)
            elif what == "ms":
                result.ms.setdefault(kind, []).append(float(value))
            elif what == "seconds":
                mixed.append(float(value))
        result.seconds = statistics.mean(mixed)
        return result


def run_urllib(
    server: Server, seconds: float, clients: int, paths: tuple[str, str], session: str, close: bool
) -> Round:
    """Send the mix from urllib threads (a new connection per request, whatever ``close``)."""
    sent = mix(*paths)
    kinds = dict((path, kind) for kind, path in sent)
    cookie = {"Cookie": f"sessionid={session}"}
    load = drive(server, [path for _, path in sent], seconds, clients=clients,
                 headers={path: cookie for path in POLLS})  # fmt: skip
    result = Round(seconds, failures=len(load.failures))
    for path, latencies in load.latencies.items():
        result.ok[kinds[path]] += len(latencies)
        result.ms.setdefault(kinds[path], []).extend(v * 1000 for v in latencies)
    return result


def staff_session(env: dict[str, str]) -> str:
    """Create a staff user in the load database; return a logged-in session's key."""
    code = (
        "import django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "user = get_user_model().objects.create_user('load-staff', is_staff=True)\n"
        "client = Client()\n"
        "client.force_login(user)\n"
        "print(client.cookies['sessionid'].value)\n"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "tests.settings_server"}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if run.returncode:
        raise RuntimeError(f"could not log the staff user in:\n{run.stderr}")
    return run.stdout.split()[-1]


def stored_totals(ok: Counter) -> tuple[bool, str]:
    """Compare what the database holds with the counted 200s; return (exact, a summary)."""
    raw = {
        "user_count": psql("SELECT count(*) FROM test_app_monitorusercount", DATABASE)[0][0],
        "orders": psql("SELECT count(*) FROM test_app_monitorordercount", DATABASE)[0][0],
    }
    classes = dict(psql("SELECT status_class, count(*) FROM monitoring_requests_requestcount "
                        "GROUP BY status_class", DATABASE))  # fmt: skip
    sums = psql(
        "SELECT monitor, resolution, sum(count) FROM monitoring_rollup "
        "WHERE monitor IN ('user_count', 'orders', 'requests') GROUP BY 1, 2",
        DATABASE,
    )
    rollups = {(name, resolution): int(total) for name, resolution, total in sums}
    expected = {"user_count": ok["add"], "orders": ok["order"]}
    exact = raw == expected and classes == {"2xx": ok["add"] + ok["order"]}
    for name, total in [*expected.items(), ("requests", ok["add"] + ok["order"])]:
        for resolution in ("minute", "hour", "day"):
            exact = exact and rollups.get((name, resolution), 0) == total
    summary = (f"add {ok['add']:,}/{raw['user_count']:,}, order {ok['order']:,}/{raw['orders']:,}, "
               f"requests 2xx {ok['add'] + ok['order']:,}/{classes.get('2xx', 0):,}")  # fmt: skip
    if not exact:
        summary += f"; requests by class {classes}; rollups {rollups}"
    return exact, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="per variant")
    parser.add_argument("--round", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--servers", default="gunicorn,uvicorn", help="comma-separated")
    parser.add_argument(
        "--keep-alive", action="store_true", help="wrk keeps connections open (default: close)"
    )
    parser.add_argument(
        "--generator", choices=["auto", "wrk", "urllib"], default="auto", help="auto: wrk if found"
    )
    args = parser.parse_args()
    wrk = shutil.which("wrk") if args.generator != "urllib" else None
    if args.generator == "wrk" and not wrk:
        parser.error("--generator wrk: wrk is not on the PATH (apt-get install wrk)")
    if wrk:
        version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split()[:2]
        kept = "kept alive" if args.keep_alive else "Connection: close"
        generator = f"{' '.join(version)} (bench/load.lua), {args.clients} connections, {kept}"
    else:
        why = "asked for" if args.generator == "urllib" else "wrk not found"
        generator = f"urllib, {args.clients} threads (tests/server.py drive(); {why})"
    run = run_wrk if wrk else run_urllib
    load = os.getloadavg()
    print(f"Generator: {generator}; load average at the start {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f}", flush=True)  # fmt: skip
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
        session = staff_session(env)
        for kind, paths in KINDS.items():
            if kind.split()[0] not in args.servers.split(","):
                continue
            start = (lambda e: Server.gunicorn(4, e)) if "gunicorn" in kind else (
                lambda e: Server.uvicorn(2, e))  # fmt: skip
            for table in ("test_app_monitorusercount", "test_app_monitorordercount",
                          "monitoring_requests_requestcount", "monitoring_rollup"):  # fmt: skip
                psql(f"DELETE FROM {table}", DATABASE)
            monitored = start(env)
            bare = start({**env, "MONITORING_TEST_BARE": "1"})
            results = {"bare": [], "monitored": []}
            # A worker the server replaced (uvicorn's supervisor kills one that misses its
            # health check) loses its unflushed points, as SIGKILL does: say so.
            initial = {"bare": set(bare.workers()), "monitored": set(monitored.workers())}
            workers = {name: set(pids) for name, pids in initial.items()}
            try:
                for _ in range(max(1, round(args.seconds / args.round))):
                    for name, server in (("bare", bare), ("monitored", monitored)):
                        close = not args.keep_alive
                        result = run(server, args.round, args.clients, paths, session, close)
                        results[name].append(result)
                        workers[name] |= set(server.workers())
            finally:
                statuses = [monitored.stop(), bare.stop()]
            if any(statuses):
                print(f"{kind}: a server exited with {statuses}:\n{monitored.stderr}{bare.stderr}")
            ok = sum((r.ok for r in results["monitored"]), Counter())
            exact, summary = stored_totals(ok)
            if not exact:
                print(f"{kind}, monitored server's stderr:\n{monitored.stderr[-3000:]}")
            for name in ("bare", "monitored"):
                series = results[name]
                row = [kind, name]
                for column in (
                    [r.rate for r in series],
                    [percentile(r.latencies(), 0.5) for r in series],
                    [percentile(r.latencies(), 0.99) for r in series],
                    [percentile(r.latencies("poll"), 0.5) for r in series],
                ):
                    row.append(
                        f"{statistics.median(column):.1f} ({min(column):.1f}-{max(column):.1f})"
                    )
                row.append(str(sum(r.failures for r in series)))
                row.append(str(len(workers[name]) - len(initial[name])))
                row.append("" if name == "bare" else f"{'yes' if exact else 'NO'}: {summary}")
                rows.append(row)
    finally:
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    load = os.getloadavg()
    print(f"{max(1, round(args.seconds / args.round))} interleaved rounds of {args.round:.0f} s "
          f"per variant; median (min-max) over the rounds; exact total: counted 200s/stored; "
          f"load average at the end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")  # fmt: skip
    header = ["server", "variant", "req/s", "p50 ms", "p99 ms", "poll p50 ms", "failures",
              "workers replaced", "exact total"]  # fmt: skip
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
