"""PostgreSQL stopped and started again under writers: a server of the test's own.

Heavy (``-m heavy``). Skips only where PostgreSQL's binaries are missing;
.ci/run installs them and fails if these tests skip.
"""

import re
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, reported_losses, start_worker, worker_env
from tests.pgserver import ThrowawayPostgres, binaries

pytestmark = [
    pytest.mark.heavy,
    pytest.mark.skipif(binaries() is None, reason="PostgreSQL binaries are not installed"),
]

FLUSH_INTERVAL = 0.25


@pytest.fixture(scope="module")
def server():
    """Return a migrated throwaway PostgreSQL server, removed after the module."""
    pg = ThrowawayPostgres()
    try:
        pg.start()
        subprocess.run(
            [sys.executable, str(ROOT / "test_app" / "manage.py"), "migrate", "-v", "0"],
            env=worker_env(**pg.env()),
            check=True,
            capture_output=True,
            timeout=300,
        )
        yield pg
    finally:
        pg.remove()


def totals(pg):
    """Return user_count's raw row count and each rollup resolution's count and sum."""
    raw = pg.query("SELECT count(*), coalesce(sum(value), 0) FROM test_app_monitorusercount")[0]
    rollups = dict(
        (resolution, (int(count), int(total)))
        for resolution, count, total in pg.query(
            "SELECT resolution, sum(count), sum(sum) FROM monitoring_rollup "
            "WHERE monitor = 'user_count' GROUP BY resolution"
        )
    )
    return (int(raw[0]), int(raw[1])), rollups


def empty(pg):
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=pg.port, user="postgres", dbname="postgres"
    ) as conn:
        conn.execute("DELETE FROM test_app_monitorusercount")
        conn.execute("DELETE FROM monitoring_rollup")
        conn.execute("DELETE FROM monitoring_rollupbin")


def start_adding(pg, seconds, *extra):
    worker = start_worker(
        "exactness_worker.py",
        4,
        0,
        "--seconds",
        seconds,
        "--interval",
        FLUSH_INTERVAL,
        *extra,
        env=pg.env(),
    )
    assert worker.stdout.readline().strip() == "started"
    return worker


def finish(worker):
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    match = re.fullmatch(r"added (\d+) errors (\d+)\s*", out)
    assert match, out
    assert match[2] == "0", err  # no caller ever saw an exception
    return int(match[1]), err


def test_postgresql_stopped_for_several_flush_intervals_loses_nothing(server):
    empty(server)
    worker = start_adding(server, 6)
    try:
        time.sleep(1.5)
        server.stop()
        time.sleep(8 * FLUSH_INTERVAL)  # eight flushes find the server gone
    finally:
        server.start()
    added, err = finish(worker)
    assert "the database is unavailable" in err  # the outage was seen
    assert not reported_losses(err), err
    assert added > 1000
    raw, rollups = totals(server)
    assert raw == (added, added)
    assert rollups == {r: (added, added) for r in ("minute", "hour", "day")}


def test_an_exit_while_postgresql_is_down_spools_and_the_next_process_writes_it(server, tmp_path):
    empty(server)
    worker = start_adding(server, 2, "--spool", str(tmp_path))
    try:
        time.sleep(0.5)
        server.stop()
        added, err = finish(worker)  # ends while the server is down
    finally:
        server.start()
    spooled = re.search(r"spooled (\d+) data points", err)
    assert spooled, err
    assert not reported_losses(err), err
    written_before = totals(server)[0][0]
    assert written_before + int(spooled[1]) >= added
    # The next process (no adds of its own): one flush writes the spool.
    code = (
        "import django; django.setup()\n"
        "from django.test.utils import override_settings\n"
        "from monitoring.register import monitor\n"
        f"override_settings(MONITORING_SPOOL_DIR={str(tmp_path)!r}).enable()\n"
        "print(monitor.flush())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_env(**server.env()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == int(spooled[1])
    raw, rollups = totals(server)
    assert raw == (added, added)
    assert rollups == {r: (added, added) for r in ("minute", "hour", "day")}
    assert list(tmp_path.iterdir()) == []
