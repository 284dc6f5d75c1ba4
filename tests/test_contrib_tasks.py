"""monitoring.contrib.tasks: Celery task runs, failures, retries and run time, in eager mode."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from celery import Celery
from django.core.checks import run_checks

from monitoring.contrib.tasks.models import TaskCount, TaskRunTime
from monitoring.register import monitor

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def app():
    app = Celery("monitoring-tests", set_as_current=False)
    app.conf.update(task_always_eager=True, task_eager_propagates=False, broker_url="memory://")

    @app.task(name="shop.add")
    def add(x, y):
        return x + y

    @app.task(name="shop.fail")
    def fail():
        raise RuntimeError("no")

    @app.task(name="shop.flaky", bind=True, max_retries=2, default_retry_delay=0)
    def flaky(self):
        if self.request.retries < 2:
            raise self.retry()
        return "done"

    return app


def outcomes():
    totals = Counter()
    for row in TaskCount.objects.all():
        totals[(row.task, row.outcome)] += row.value
    return sorted((task, outcome, n) for (task, outcome), n in totals.items())


def test_a_successful_task_is_counted_and_timed(app):
    assert app.tasks["shop.add"].delay(2, 3).get() == 5
    assert outcomes() == [("shop.add", "success", 1)]
    times = list(TaskRunTime.objects.all())
    assert [row.task for row in times] == ["shop.add"]
    assert times[0].value >= 0


def test_a_failing_task_is_counted_as_a_failure(app):
    result = app.tasks["shop.fail"].delay()
    assert result.failed()
    assert outcomes() == [("shop.fail", "failure", 1)]
    assert TaskRunTime.objects.filter(task="shop.fail").count() == 1


def test_retries_are_counted_then_the_success(app):
    assert app.tasks["shop.flaky"].delay().get() == "done"
    assert outcomes() == [("shop.flaky", "retry", 2), ("shop.flaky", "success", 1)]
    assert TaskRunTime.objects.filter(task="shop.flaky").count() == 3


def test_the_monitors_are_in_their_own_category():
    assert [h.name for h in monitor if h.category == "Tasks"] == ["tasks", "task_runtime"]


def test_without_celery_the_app_is_a_check_error(monkeypatch):
    assert [m.id for m in run_checks() if m.id == "monitoring.E023"] == []
    monkeypatch.setitem(sys.modules, "celery", None)
    assert [m.id for m in run_checks() if m.id == "monitoring.E023"] == ["monitoring.E023"]


def test_a_pool_process_flushes_its_points_when_it_shuts_down(monkeypatch):
    from celery import signals

    from monitoring import storage

    flushed = []
    monkeypatch.setattr(storage, "flush", lambda: flushed.append(True))
    signals.worker_process_shutdown.send(sender=None, pid=1, exitcode=0)
    signals.worker_shutdown.send(sender=None)
    assert flushed == [True, True]


def test_two_runs_of_one_task_id_in_two_threads_keep_their_own_times(monkeypatch):
    import threading

    from monitoring.contrib.tasks import signals as receivers

    class Task:
        name = "shop.slow"

    clock = {"now": 0.0}
    monkeypatch.setattr(receivers.time, "perf_counter", lambda: clock["now"])
    recorded = []
    monkeypatch.setattr(receivers, "add_safely", lambda model, ms, **dims: recorded.append(ms))
    started = threading.Event()
    ended = threading.Event()

    def first():
        receivers.task_started(Task, task_id="same")
        started.set()
        ended.wait(5)
        receivers.task_finished(Task, task_id="same")

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(5)
    clock["now"] = 10.0
    receivers.task_started(Task, task_id="same")  # a retry, in another thread
    clock["now"] = 10.5
    receivers.task_finished(Task, task_id="same")
    clock["now"] = 12.0
    ended.set()
    thread.join(5)
    assert sorted(recorded) == [500.0, 12_000.0]


def test_runs_killed_before_postrun_leave_a_bounded_number_of_entries(monkeypatch):
    from monitoring.contrib.tasks import signals as receivers

    class Task:
        name = "shop.killed"

    monkeypatch.setattr(receivers, "MAX_RUNNING", 3)
    monkeypatch.setattr(receivers, "_started", {})
    recorded = []
    monkeypatch.setattr(receivers, "add_safely", lambda model, ms, **dims: recorded.append(ms))
    for n in range(5):
        receivers.task_started(Task, task_id=f"run-{n}")  # none of them ends
    assert [task_id for task_id, _ in receivers._started] == ["run-2", "run-3", "run-4"]
    receivers.task_finished(Task, task_id="run-4")
    assert len(recorded) == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_prefork_worker_records_every_task_exactly(tmp_path):
    """Two prefork children run 30 tasks; after a warm shutdown every run is counted."""
    import os
    import signal
    import subprocess
    import time

    from tests.conftest import worker_env

    folder = tmp_path / "broker"
    folder.mkdir()
    env = worker_env(MONITORING_CELERY_FOLDER=str(folder))
    producer = Celery("monitoring-tests", set_as_current=False)
    producer.conf.update(
        broker_url="filesystem://",
        broker_transport_options={"data_folder_in": str(folder), "data_folder_out": str(folder)},
    )
    for i in range(24):
        producer.send_task("shop.add", (i, 1))
    for _ in range(6):
        producer.send_task("shop.fail")
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker", "--pool=prefork",
         "--concurrency=2", "--loglevel=WARNING", "--without-heartbeat", "--without-mingle",
         "--without-gossip"],
        env=env, cwd=env["PYTHONPATH"], stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(folder.glob("*.msg")):
            time.sleep(0.2)
        assert not any(folder.glob("*.msg")), (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(1)  # the last message taken is still running
        worker.send_signal(signal.SIGTERM)  # a warm shutdown, as a deploy sends it
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()
    assert outcomes() == [("shop.add", "success", 24), ("shop.fail", "failure", 6)], (
        tmp_path / "worker.log"
    ).read_text()[-3000:]
    assert TaskRunTime.objects.count() == 30
