"""Periodic work that one process of the whole deployment does per tick.

Sampled gauges and alert evaluation must run on a schedule, but a site runs
many processes on many machines, and each sample or alert must happen once.
Two pieces make that work, both on the monitoring database:

- A **lease**: one row per name in :class:`~monitoring.models.Lease`, taken
  with a compare-and-set ``UPDATE`` (or the ``INSERT`` that creates it), which
  SQLite and PostgreSQL both run atomically. :func:`acquire` holds a lease
  for some seconds; :func:`claim` takes one *tick* of a schedule, which
  exactly one process can do.
- **Jobs**: :func:`every` registers a function to run every so often. A
  daemon thread, ``monitoring-jobs``, started by the first request of a web
  process (``MONITORING_JOBS = False`` turns it off), runs each job once per
  tick, on whichever process claims the tick first. Ticks are aligned to the
  Unix epoch, so a 5-minute job runs at :00, :05, … whatever process runs it.
  :func:`run_due` does one round of that without the thread (for tests and
  commands), and :func:`run` calls one job now, claiming nothing (for cron).

A job that raises is logged and runs again next tick; it never stops the
others. A job runs on the jobs thread, so a job that might block for long
should bound itself (sampled gauges do).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connections, transaction

from monitoring.conf import conf

__all__ = [
    "Job",
    "acquire",
    "claim",
    "every",
    "jobs",
    "parse_interval",
    "release",
    "run",
    "run_due",
    "start",
    "stop",
    "unregister",
]

logger = logging.getLogger("monitoring.jobs")

#: Seconds the jobs thread sleeps between two looks at its schedule.
POLL = 1.0

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: float | int | str | dt.timedelta, name: str = "interval") -> float:
    """Return seconds from ``30``, ``30.0``, ``"30s"``, ``"5m"``, ``"1h"``, ``"1d"`` or a timedelta.

    Raise ``ValueError`` naming ``name`` for anything else, or for zero or less.
    """
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _INTERVAL.match(value)):
        seconds = float(match[1]) * _UNITS[match[2]]
    else:
        raise ValueError(
            f"{name} must be seconds, a timedelta or a string such as '30s', '5m', '1h' "
            f"or '1d', not {value!r}."
        )
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{name} must be more than zero, not {value!r}.")
    return seconds


# -- the lease ----------------------------------------------------------------

_holder: tuple[int, str] | None = None


def holder() -> str:
    """Return this process's name in lease rows: host, pid and a random token."""
    global _holder
    pid = os.getpid()
    if _holder is None or _holder[0] != pid:
        _holder = (pid, f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}")
    return _holder[1]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _take(name: str, expires: int, condition: Any, alias: str | None) -> bool:
    from monitoring.models import Lease

    alias = alias or conf.DATABASE
    me = holder()
    rows = Lease.objects.using(alias).filter(condition, name=name)
    if rows.update(holder=me, expires=expires):
        return True
    try:
        # In a savepoint: inside a caller's transaction on PostgreSQL, a failed
        # INSERT would otherwise break the rest of it.
        with transaction.atomic(using=alias):
            Lease.objects.using(alias).create(name=name, holder=me, expires=expires)
    except IntegrityError:
        return False  # another process created it first: it holds it
    return True


def acquire(name: str, seconds: float, *, alias: str | None = None) -> bool:
    """Hold the lease ``name`` for ``seconds`` from now; return whether this process holds it.

    It succeeds when nobody holds the lease, when it has expired, or when this
    process holds it already (which renews it).
    """
    from django.db.models import Q

    now = _now_ms()
    condition = Q(expires__lte=now) | Q(holder=holder())
    return _take(name, now + int(seconds * 1000), condition, alias)


def release(name: str, *, alias: str | None = None) -> None:
    """Give up the lease ``name`` if this process holds it."""
    from monitoring.models import Lease

    Lease.objects.using(alias or conf.DATABASE).filter(name=name, holder=holder()).update(expires=0)


def claim(name: str, interval: float, *, now: float | None = None, alias: str | None = None):
    """Take the current tick of the schedule ``name``; return its start (Unix seconds) or None.

    Ticks are ``interval`` seconds long and aligned to the epoch. Of all the
    processes that claim the same tick, exactly one gets it; the others get
    None, and so does a process that claims a tick already taken.
    """
    from django.db.models import Q

    now = time.time() if now is None else now
    tick = int(now // interval * interval * 1000)
    end = tick + int(interval * 1000)
    return tick / 1000 if _take(name, end, Q(expires__lte=tick), alias) else None


# -- jobs -----------------------------------------------------------------------


@dataclass
class Job:
    """A function run once per tick of ``interval`` seconds, cluster-wide."""

    name: str
    interval: float
    function: Callable[[], Any]
    #: Start of the next tick this process looks at (Unix seconds).
    due: float = field(default=0.0, compare=False)

    @property
    def lease(self) -> str:
        return f"job:{self.name}"


jobs: dict[str, Job] = {}
_lock = threading.Lock()


def every(
    interval: float | int | str | dt.timedelta, function: Callable[[], Any], *, name: str
) -> Job:
    """Run ``function()`` once per ``interval`` (``"5m"``, seconds, …) on one process.

    ``name`` identifies the job across processes (its lease row); registering
    the same name again replaces the job.
    """
    if not callable(function):
        raise TypeError(f"Job {name!r}: {function!r} is not callable.")
    if not isinstance(name, str) or not name or len(name) > 96:
        raise ValueError(f"A job's name must be a string of 1 to 96 characters, not {name!r}.")
    job = Job(name, parse_interval(interval, f"Job {name!r}: interval"), function)
    with _lock:
        jobs[name] = job
    return job


def unregister(name: str) -> None:
    """Forget the job ``name`` (no error if there is none)."""
    with _lock:
        jobs.pop(name, None)


def run(name: str) -> Any:
    """Call the job ``name`` now in this process, claiming no tick; return its result.

    For cron and commands. Raise ``KeyError`` naming the job if there is none.
    """
    try:
        job = jobs[name]
    except KeyError:
        known = ", ".join(sorted(jobs)) or "none"
        raise KeyError(f"No job named {name!r}; jobs: {known}.") from None
    return job.function()


def run_due(now: float | None = None) -> list[str]:
    """Run every job whose tick this process claims now; return the names run.

    Each job is looked at once per tick: a process that lost the claim for a
    tick waits for the next one.
    """
    now = time.time() if now is None else now
    ran = []
    for job in list(jobs.values()):
        if now < job.due:
            continue
        job.due = (now // job.interval + 1) * job.interval
        try:
            if claim(job.lease, job.interval, now=now) is None:
                continue
        except Exception as exc:
            logger.warning("Monitoring could not claim job %r: %s", job.name, exc)
            job.due = now + POLL  # the database may be back soon
            continue
        try:
            job.function()
        except Exception:
            logger.exception("Monitoring job %r failed; it runs again next tick.", job.name)
        ran.append(job.name)
    return ran


# -- the thread -----------------------------------------------------------------

_thread: threading.Thread | None = None
_stop = threading.Event()


def start(**kwargs: Any) -> None:
    """Start the jobs thread unless it runs, there are no jobs, or ``MONITORING_JOBS`` is off.

    Connected to ``request_started``: cheap when the thread runs already.
    """
    global _thread
    if _thread is not None or not jobs or not conf.JOBS:
        return
    with _lock:
        if _thread is not None:
            return
        _stop.clear()
        _thread = threading.Thread(target=_loop, name="monitoring-jobs", daemon=True)
        _thread.start()


def stop(timeout: float = 10.0) -> None:
    """Stop the jobs thread and wait for it."""
    global _thread
    thread = _thread
    _stop.set()
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
    _thread = None


def _loop() -> None:
    while not _stop.wait(POLL):
        if not conf.JOBS:
            continue
        try:
            run_due()
        except Exception:  # pragma: no cover - run_due guards each job
            logger.exception("Monitoring's jobs thread hit an error.")
        finally:
            connection = connections[conf.DATABASE]
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()


def _after_fork_in_child() -> None:
    # The thread did not survive the fork; the child starts its own on its first request.
    global _thread, _lock
    _thread = None
    _lock = threading.Lock()


_connected = False


def connect() -> None:
    """Start the thread on a web process's first request, and again after forks.

    Called once by ``MonitoringConfig.ready()``.
    """
    global _connected
    if _connected:
        return
    _connected = True
    from django.core.signals import request_started

    request_started.connect(start, dispatch_uid="monitoring.jobs.start")
    os.register_at_fork(after_in_child=_after_fork_in_child)
