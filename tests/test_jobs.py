"""The cluster-wide lease and the periodic jobs (monitoring/jobs.py)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import OperationalError, connections, transaction
from django.test import override_settings

from monitoring import jobs
from monitoring.models import Lease
from tests.test_storage import BACKENDS

# A Monday, 12:00:00 UTC: aligned to every tick length used here.
T = dt.datetime(2024, 6, 3, 12, 0, tzinfo=dt.timezone.utc).timestamp()


@pytest.fixture
def no_jobs():
    """Start and end with no registered jobs and no thread."""
    saved = dict(jobs.jobs)
    jobs.jobs.clear()
    yield jobs.jobs
    jobs.stop()
    jobs.jobs.clear()
    jobs.jobs.update(saved)


@pytest.fixture
def as_process(monkeypatch):
    """Return a context manager that makes the lease code act as another process."""
    me = jobs.holder()

    class Process:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            monkeypatch.setattr(jobs, "holder", lambda: self.name)

        def __exit__(self, *exc):
            monkeypatch.setattr(jobs, "holder", lambda: me)

    return Process


@pytest.mark.parametrize(
    "value, seconds",
    [(30, 30.0), (0.5, 0.5), ("30s", 30.0), ("5m", 300.0), (" 1.5h ", 5400.0), ("1d", 86400.0)]
    + [(dt.timedelta(minutes=2), 120.0)],
)
def test_parse_interval(value, seconds):
    assert jobs.parse_interval(value) == seconds


@pytest.mark.parametrize("value", ["5 minutes", "m", "", "-5m", "5w", None, True, [5]])
def test_parse_interval_names_the_bad_value(value):
    with pytest.raises(ValueError, match="every must be seconds") as info:
        jobs.parse_interval(value, "every")
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("value", [0, -1, "0s", dt.timedelta(0), float("inf"), float("nan")])
def test_parse_interval_refuses_zero_negative_and_endless(value):
    with pytest.raises(ValueError, match="more than zero"):
        jobs.parse_interval(value)


@pytest.mark.django_db
def test_a_lease_is_held_by_one_process_until_it_expires_or_is_released(as_process, monkeypatch):
    now = [1_000_000]
    monkeypatch.setattr(jobs, "_now_ms", lambda: now[0])
    with as_process("a"):
        assert jobs.acquire("evaluate", 60)
    with as_process("b"):
        assert not jobs.acquire("evaluate", 60)
    now[0] += 30_000
    with as_process("a"):
        assert jobs.acquire("evaluate", 60)  # renews: now held until +90 s
    now[0] += 59_000
    with as_process("b"):
        assert not jobs.acquire("evaluate", 60)
    now[0] += 1_000
    with as_process("b"):
        assert jobs.acquire("evaluate", 60)  # a's lease ran out
    with as_process("a"):
        assert not jobs.acquire("evaluate", 60)
        jobs.release("evaluate")  # not a's to release
    with as_process("c"):
        assert not jobs.acquire("evaluate", 60)
    with as_process("b"):
        jobs.release("evaluate")
    with as_process("c"):
        assert jobs.acquire("evaluate", 60)
    assert Lease.objects.get(name="evaluate").holder == "c"


@pytest.mark.django_db
def test_each_tick_is_claimed_once(as_process):
    with as_process("a"):
        assert jobs.claim("job:x", 300, now=T + 10) == T
    with as_process("b"):
        assert jobs.claim("job:x", 300, now=T + 20) is None
    with as_process("a"):
        assert jobs.claim("job:x", 300, now=T + 299) is None  # holding it is no second claim
    with as_process("b"):
        assert jobs.claim("job:x", 300, now=T + 300) == T + 300
    assert jobs.claim("job:y", 300, now=T + 20) == T  # schedules are apart


@pytest.mark.django_db
def test_a_failed_claim_leaves_the_callers_transaction_usable(as_process):
    with as_process("a"):
        assert jobs.claim("job:x", 60, now=T) == T
    with transaction.atomic(), as_process("b"):
        # The INSERT fails on the existing row; the rest of the transaction goes on.
        Lease.objects.filter(name="job:x").update(expires=T * 1000 + 120_000)
        assert jobs.claim("job:x", 60, now=T + 61) is None
        assert Lease.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", BACKENDS)
def test_of_eight_racing_processes_exactly_one_claims_each_tick(backend, monkeypatch):
    """Threads with their own connections race as processes would, on a file and on PostgreSQL."""
    wins = []
    barrier = threading.Barrier(8)
    tokens = threading.local()
    monkeypatch.setattr(jobs, "holder", lambda: tokens.name)

    def race(n):
        tokens.name = f"process-{n}"
        try:
            for tick in range(5):
                barrier.wait(10)
                if jobs.claim("job:race", 60, now=T + tick * 60 + 1) is not None:
                    wins.append((tick, n))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(tick for tick, _ in wins) == [0, 1, 2, 3, 4]


@pytest.mark.django_db
def test_run_due_runs_each_job_once_per_tick_on_the_claiming_process(
    no_jobs, as_process, django_assert_num_queries
):
    calls = []
    jobs.every("5m", lambda: calls.append("sample"), name="sample")
    jobs.every(60, lambda: calls.append("alerts"), name="alerts")
    assert sorted(jobs.run_due(now=T + 1)) == ["alerts", "sample"]
    with django_assert_num_queries(0):
        assert jobs.run_due(now=T + 30) == []  # same ticks: not even a query
    with as_process("other"):
        no_jobs["alerts"].due = 0  # a fresh process looks at the tick that was run
        assert jobs.run_due(now=T + 31) == []
    assert jobs.run_due(now=T + 61) == ["alerts"]
    assert sorted(jobs.run_due(now=T + 300)) == ["alerts", "sample"]
    assert calls.count("sample") == 2 and calls.count("alerts") == 3


@pytest.mark.django_db
def test_a_failing_job_is_logged_and_the_others_run(no_jobs, caplog):
    calls = []

    def broken():
        raise RuntimeError("sampler exploded")

    jobs.every(60, broken, name="broken")
    jobs.every(60, lambda: calls.append(1), name="fine")
    assert sorted(jobs.run_due(now=T)) == ["broken", "fine"]
    assert calls == [1]
    assert "Monitoring job 'broken' failed" in caplog.text
    assert "sampler exploded" in caplog.text
    assert sorted(jobs.run_due(now=T + 60)) == ["broken", "fine"]  # and again next tick


def test_every_and_run_give_clear_errors(no_jobs):
    with pytest.raises(TypeError, match="Job 'x': 5 is not callable"):
        jobs.every(60, 5, name="x")
    with pytest.raises(ValueError, match="Job 'x': interval must be"):
        jobs.every("often", print, name="x")
    with pytest.raises(ValueError, match="1 to 96 characters"):
        jobs.every(60, print, name="")
    jobs.every(60, lambda: 42, name="answer")
    assert jobs.run("answer") == 42
    with pytest.raises(KeyError, match="No job named 'nope'; jobs: answer"):
        jobs.run("nope")
    jobs.unregister("answer")
    assert "answer" not in jobs.jobs


@pytest.mark.django_db(transaction=True)
def test_the_thread_starts_on_the_first_request_and_runs_the_jobs(no_jobs, client, monkeypatch):
    ran = threading.Event()
    monkeypatch.setattr(jobs, "POLL", 0.05)
    jobs.every(3600, ran.set, name="hourly")
    client.get("/monitoring/")
    assert jobs._thread is None  # MONITORING_JOBS is off in the tests
    with override_settings(MONITORING_JOBS=True):
        client.get("/monitoring/")
        thread = jobs._thread
        assert thread is not None and thread.name == "monitoring-jobs"
        assert ran.wait(10)
        client.get("/monitoring/")
        assert jobs._thread is thread  # one thread per process
    jobs.stop()
    assert not thread.is_alive()


def test_no_thread_without_jobs(no_jobs):
    with override_settings(MONITORING_JOBS=True):
        jobs.start()
    assert jobs._thread is None


@pytest.mark.django_db(transaction=True)
def test_a_claim_while_the_database_is_down_is_retried_soon(no_jobs, monkeypatch, caplog):
    calls = []
    jobs.every(3600, lambda: calls.append(1), name="hourly")

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(jobs, "_take", down)
    assert jobs.run_due(now=T + 5) == []
    assert "could not claim job 'hourly'" in caplog.text
    monkeypatch.undo()
    # Not at the next tick an hour later: a second after.
    assert jobs.run_due(now=T + 5 + jobs.POLL) == ["hourly"]
    assert calls == [1]
