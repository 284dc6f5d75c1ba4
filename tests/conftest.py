import copy
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test import override_settings
from factory.django import mute_signals

from monitoring.register import monitor
from monitoring.storage import buffer
from tests.factories import StaffFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent

# Monitoring's own words when it loses points (monitoring/storage/buffer.py). Other
# libraries may say "lost" too: psycopg logs "the connection is lost" when a server
# stops under a flush, which is no loss of ours.
_LOSS_REPORT = re.compile(r"Monitoring (?:lost|dropped) \d+ data points")


def reported_losses(text):
    """Monitoring's reports of lost or dropped points in a log or a stderr."""
    return _LOSS_REPORT.findall(text)


@pytest.fixture(autouse=True, scope="session")
def _write_synchronously():
    """Write each data point inside add(), so tests read what they added.

    Charts of existing tables are not cached (tests/test_tables.py turns it on).

    Tests of the buffer turn it back on (see tests/test_storage.py).
    """
    # No cached charts of existing tables, and no jobs thread: each test reads the rows it
    # made, and runs jobs with jobs.run_due() on its own clock.
    with override_settings(
        MONITORING_BUFFER=False, MONITORING_TABLE_CACHE_TIMEOUT=0, MONITORING_JOBS=False
    ):
        yield


# Playwright's sync API runs an event loop in the test's thread; the ORM calls around it
# are still synchronous, so Django's async-safety check must not refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """Build jQuery and uPlot from npm when they are missing: the dashboard serves them."""
    from build_assets import ensure_vendor

    try:
        ensure_vendor()
    except SystemExit as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(autouse=True)
def _restore_registry():
    """Give every test the registry as autodiscovery left it, whatever the test changes."""
    saved = copy.copy(monitor._registry), copy.copy(monitor._alerts)
    yield
    monitor._registry, monitor._alerts = saved


@pytest.fixture
def staff_user(db):
    """Return an active staff user, not counted by test_app's user_count monitor.

    Rollups are not touched by deleting raw rows, so a user counted here
    would stay in every chart of the test.
    """
    with mute_signals(post_save):
        return StaffFactory()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client(client, db):
    """Return a client logged in as a superuser, not counted by test_app's user_count monitor.

    Replaces pytest-django's own, whose user creation would count as a sign-up.
    """
    with mute_signals(post_save):
        user = StaffFactory(is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def user_client(client, db):
    with mute_signals(post_save):
        user = UserFactory()
    client.force_login(user)
    return client


TEST_DB = "postgres" if os.environ.get("MONITORING_TEST_DB") == "postgres" else "sqlite"


def pytest_collection_modifyitems(config, items):
    """Leave the heavy tests out unless the marker expression names them.

    They start servers and many processes; .ci/run runs them once, in a step
    of their own (``-m heavy``), instead of in every tox environment.
    """
    if "heavy" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if not item.get_closest_marker("heavy")]
    if len(kept) < len(items):
        config.hook.pytest_deselected(
            items=[item for item in items if item.get_closest_marker("heavy")]
        )
        items[:] = kept


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and TEST_DB != "postgres":
        pytest.skip(
            "PostgreSQL variant: run the suite with MONITORING_TEST_DB=postgres and PG* "
            "variables pointing at a server (.ci/run does)."
        )
    if item.get_closest_marker("sqlite_file") and TEST_DB != "sqlite":
        pytest.skip("SQLite-file variant: runs when MONITORING_TEST_DB is unset.")


@pytest.fixture
def buffered():
    """Turn the write buffer on, with no timer flush unless a test asks for one.

    Afterwards the background thread is stopped and the buffer forgotten, so
    every test starts from an empty buffer with zeroed counters. Flush listeners
    (test_app turns on monitoring.contrib.health) are off, so the buffer holds
    only what the test adds; tests/test_contrib_health.py turns its own on.
    """
    from monitoring.storage.buffer import FLUSH_LISTENERS

    listeners = FLUSH_LISTENERS[:]
    FLUSH_LISTENERS.clear()
    buffer.reset()
    try:
        with override_settings(
            MONITORING_BUFFER=True, MONITORING_FLUSH_INTERVAL=3600, MONITORING_PRUNE_INTERVAL=None
        ):
            yield buffer
            buffer.reset()
    finally:
        FLUSH_LISTENERS[:] = listeners


def worker_env(**extra):
    """Return the environment of a subprocess that uses this test run's database."""
    settings = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "test_app.settings", "PYTHONPATH": str(ROOT)}
    if connection.vendor == "sqlite":
        env["MONITORING_SQLITE_NAME"] = str(settings["NAME"])
    else:
        env["PGDATABASE"] = settings["NAME"]
    env.update(extra)
    return env


def start_worker(script, *args, env=None):
    """Start ``tests/<script>`` with ``args`` on this test run's database; return its Popen.

    Its stdout and stderr are pipes, read as text (``communicate()``); ``env``
    adds variables to :func:`worker_env`'s.
    """
    return subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / script), *map(str, args)],
        env=worker_env(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_adding(worker, added, timeout):
    """Wait for a tests/exactness_worker.py; assert it ended cleanly, having added ``added``.

    Return its stderr, for the caller's own checks.
    """
    out, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err
    assert out.split() == ["added", str(added), "errors", "0"], err
    return err


def kill_running(workers):
    """Kill the workers still running (a test that failed before they ended)."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()


@pytest.fixture
def freeze_now(monkeypatch):
    """Return a function that pins ``django.utils.timezone.now()`` and add()'s clock to a moment.

    With USE_TZ off, now() answers the moment as a naive time in TIME_ZONE, as
    Django does (it sets the process zone from TIME_ZONE). Log a test client in
    after freezing (``staff_client_at`` does), so its session is valid then.
    """
    import zoneinfo

    from django.conf import settings
    from django.utils import timezone

    def freeze(moment):
        assert timezone.is_aware(moment), "freeze_now() takes an aware datetime"

        def now():
            if settings.USE_TZ:
                return moment.astimezone(dt.timezone.utc)
            return timezone.make_naive(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE))

        monkeypatch.setattr(timezone, "now", now)
        # add() without ``at`` reads the clock itself, in nanoseconds.
        import monitoring.models

        ns = (
            (moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
            // dt.timedelta(microseconds=1)
            * 1000
        )
        monkeypatch.setattr(monitoring.models, "_time_ns", lambda: ns)
        return moment

    return freeze


@pytest.fixture
def staff_client_at(client, staff_user, freeze_now):
    """Return a function that pins the clock at an aware moment and logs a staff client in."""

    def at(moment):
        freeze_now(moment)
        client.force_login(staff_user)
        return client

    return at


def mailer_settings(backend, **options):
    """Return the settings that send Django's emails through ``backend``, as this Django takes them.

    Django 6.1 replaced ``EMAIL_BACKEND`` and ``EMAIL_*`` by ``MAILERS``; ``options``
    are the backend's keyword arguments (``file_path=...``).
    """
    import django

    if django.VERSION >= (6, 1):
        return {"MAILERS": {"default": {"BACKEND": backend, "OPTIONS": options}}}
    return {"EMAIL_BACKEND": backend, **{f"EMAIL_{key.upper()}": v for key, v in options.items()}}
