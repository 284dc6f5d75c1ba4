"""Receivers of Celery's task signals; the app's ``ready()`` connects them if Celery is installed.

They run in the worker process that runs the task, in prefork children too:
``add()`` only appends to the process's buffer, which is written by the
background flusher, and flushed once more when a pool process shuts down
(billiard's children end without the interpreter's exit hooks).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from monitoring.contrib.safe import add_safely
from monitoring.contrib.tasks.models import TaskCount, TaskRunTime

#: When each running task started, by task id and thread (or greenlet): a retry reuses
#: the task id, and a threads or gevent pool can start it before the first run ends.
_started: dict[tuple[str, int], float] = {}
#: Runs remembered at most. A run killed before task_postrun (a hard time limit in a
#: threads pool) leaves its entry behind; past this, the oldest entries go.
MAX_RUNNING = 10_000


def _name(sender: Any) -> str:
    name = getattr(sender, "name", None) or str(sender)
    return name[:200]


def task_started(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    """Note when a task run starts."""
    if task_id is not None:
        if len(_started) >= MAX_RUNNING:
            # Dicts keep insertion order: the first key is the oldest run.
            _started.pop(next(iter(_started)), None)
        _started[(task_id, threading.get_ident())] = time.perf_counter()


def task_finished(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    """Record how long the task run took."""
    if task_id is None:
        return
    start = _started.pop((task_id, threading.get_ident()), None)
    if start is not None:
        add_safely(TaskRunTime, (time.perf_counter() - start) * 1000, task=_name(sender))


def task_succeeded(sender: Any = None, **kwargs: Any) -> None:
    """Count a run that succeeded."""
    add_safely(TaskCount, 1, task=_name(sender), outcome="success")


def task_failed(sender: Any = None, **kwargs: Any) -> None:
    """Count a run that raised."""
    add_safely(TaskCount, 1, task=_name(sender), outcome="failure")


def task_retried(sender: Any = None, **kwargs: Any) -> None:
    """Count a run that asked to be retried."""
    add_safely(TaskCount, 1, task=_name(sender), outcome="retry")


def flush_at_shutdown(**kwargs: Any) -> None:
    """Write the points a worker (or pool) process still holds before it ends."""
    from monitoring import storage

    storage.flush()


def connect() -> None:
    """Connect the receivers to Celery's signals (once, whatever the number of calls)."""
    from celery import signals

    signals.task_prerun.connect(task_started, weak=False, dispatch_uid="monitoring.task_started")
    signals.task_postrun.connect(task_finished, weak=False, dispatch_uid="monitoring.task_finished")
    signals.task_success.connect(
        task_succeeded, weak=False, dispatch_uid="monitoring.task_succeeded"
    )
    signals.task_failure.connect(task_failed, weak=False, dispatch_uid="monitoring.task_failed")
    signals.task_retry.connect(task_retried, weak=False, dispatch_uid="monitoring.task_retried")
    for shutdown in (signals.worker_process_shutdown, signals.worker_shutdown):
        shutdown.connect(flush_at_shutdown, weak=False, dispatch_uid="monitoring.flush_tasks")
