"""The process-local write buffer and the background thread that flushes it.

``add()`` validates a point, then appends ``(model, value, time_ns, dimensions)``
here and returns: no lock, no settings read, no database. The flusher thread
writes the points

- every ``MONITORING_FLUSH_INTERVAL`` seconds,
- as soon as ``MONITORING_BUFFER_SIZE`` points wait,
- soon after a request that added points ends (``request_finished`` only
  wakes the thread; it never writes),

and the process writes what is left at exit (``atexit``, and in
``multiprocessing`` children through a ``multiprocessing.util.Finalize``)
and on ``monitor.flush()``.

What can go wrong, and what happens then:

- The database is unavailable (connection or operational errors): the points
  are kept and retried. While it stays unavailable, a full buffer keeps the
  oldest points and drops new ones, counted in :meth:`Buffer.stats` and logged once per interval.
- The database refuses some rows (integrity or data errors): the batch is
  split until the rows at fault stand alone; they are rejected, counted with
  their reason, and the rest is written.
- A monitor's table does not exist: its points are rejected as ``"no table"``,
  and the process says so once per table, naming the commands that create it.
- The buffer is full while the database accepts writes: ``add()`` waits for
  the flusher to take points (at most ``MONITORING_BUFFER_WAIT`` seconds)
  instead of dropping them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, DataError, IntegrityError, connections, transaction

from monitoring.conf import DEFAULTS, conf
from monitoring.storage.writer import MODELS, write_points

if TYPE_CHECKING:
    from monitoring.models import MonitorBase

    #: A buffered point: (model key, value, Unix time in ns, dimension values or None).
    Point = tuple[int, int | float, int, tuple | None]

__all__ = ["FLUSH_LISTENERS", "Buffer", "FlushReport", "Refused", "buffer"]

logger = logging.getLogger("monitoring.storage")

#: Flushes tried at exit while the database is unavailable, before the points are given up.
EXIT_ATTEMPTS = 3
#: Points written per transaction: bounds the memory a flush adds to the buffer's.
CHUNK = 50_000
#: Seconds between two wake-ups of the flusher by request ends.
REQUEST_WAKE_GAP = 1.0


@dataclass(frozen=True)
class FlushReport:
    """What one flush did: handed to each of ``FLUSH_LISTENERS`` after it.

    ``taken`` points were taken from the buffer and ``written`` of them
    written; ``rejected`` and ``dropped`` count the points refused or dropped
    since the previous report; ``seconds`` is how long the flush took and
    ``lag`` how long the buffer had waited since the flush before (None for
    the first flush of the process).
    """

    taken: int
    written: int
    rejected: int
    dropped: int
    seconds: float
    lag: float | None


#: Callables given a :class:`FlushReport` after every flush that took points or saw
#: points dropped, on the flushing thread (``monitoring.contrib.health`` listens).
FLUSH_LISTENERS: list[Callable[[FlushReport], None]] = []


class Refused(ValueError):
    """The database refused a data point that ``add()`` wrote synchronously."""


class Buffer:
    """Hold data points until the flusher writes them; see the module docstring."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        # A plain list: append() is atomic, and the flusher takes points with a slice
        # and a del of the same length, so points appended in between stay.
        self._points: list[Point] = []
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        # Held for a whole flush, so the points of one process are written in order.
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        # True until the settings are read, and in synchronous mode: add() then
        # takes the slow path, which reads them.
        self._direct = True
        self._sync = False
        self._size = 1
        self._maximum = 1
        self._interval = 5.0
        self._wait = 10.0
        self._alias = "default"
        self._spool_dir: str | None = None
        self._spool_max = 0
        self._next_spool = 0.0
        self._next_prune = 0.0
        self._last_flush = 0.0
        # When the flusher last took points or finished a write (monotonic seconds).
        self._progress = 0.0
        #: False after a flush found the database unavailable, until one succeeds.
        self.healthy = True
        self.written = 0
        self.failed_flushes = 0
        self.deferred_flushes = 0
        self.last_error: str | None = None
        self._dropped: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._drops_logged = -float("inf")
        self._drops_unlogged = 0
        self._missing_tables: set[str] = set()
        # Totals at the last flush report, so each report says what happened since.
        self._reported = (0, 0)

    # -- settings ---------------------------------------------------------

    def _load_settings(self) -> None:
        self._sync = not bool(conf.BUFFER)
        self._size = _positive(conf.BUFFER_SIZE, "MONITORING_BUFFER_SIZE", int)
        self._maximum = max(self._size, _positive(conf.BUFFER_MAX, "MONITORING_BUFFER_MAX", int))
        self._interval = _positive(conf.FLUSH_INTERVAL, "MONITORING_FLUSH_INTERVAL", float)
        wait = conf.BUFFER_WAIT
        self._wait = float(wait) if isinstance(wait, (int, float)) and wait >= 0 else 10.0
        self._alias = conf.DATABASE
        spool = conf.SPOOL_DIR
        self._spool_dir = os.fspath(spool) if spool else None
        self._spool_max = _positive(conf.SPOOL_MAX, "MONITORING_SPOOL_MAX", int)
        self._direct = self._sync

    def settings_changed(self, setting: str, **kwargs: Any) -> None:
        if setting.startswith("MONITORING_"):
            self._direct = True
            if self._thread is not None:
                self._wake.set()  # the flusher rereads them

    @property
    def alias(self) -> str:
        """Return the database alias the points go to."""
        if self._direct:
            self._load_settings()
        return self._alias

    # -- adding -----------------------------------------------------------

    def add(
        self, model: type[MonitorBase], value: int | float, ns: int, dimensions: tuple | None
    ) -> None:
        """Keep a validated point for the flusher, or write it now in synchronous mode.

        The hot path: one append and one length check.
        """
        if self._direct:
            self._add_slow(model, value, ns, dimensions)
            return
        points = self._points
        points.append((model._point_key, value, ns, dimensions))
        if len(points) >= self._size:
            self._full(len(points))

    def add_points(self, points: tuple[Point, ...]) -> None:
        """Keep several validated points, each ``(model._point_key, value, ns, dimensions)``.

        One call and one length check for all of them: the built-in request
        middleware records two to four points per request through it.
        """
        if self._direct:
            for key, value, ns, dimensions in points:
                self._add_slow(MODELS[key], value, ns, dimensions)
            return
        buffered = self._points
        buffered.extend(points)
        if len(buffered) >= self._size:
            self._full(len(buffered))

    def _add_slow(
        self, model: type[MonitorBase], value: int | float, ns: int, dimensions: tuple | None
    ) -> None:
        self._load_settings()
        if self._sync:
            self._write_now(model, value, ns, dimensions)
            return
        self.start()
        self._points.append((model._point_key, value, ns, dimensions))
        if len(self._points) >= self._size:
            self._full(len(self._points))

    def _full(self, pending: int) -> None:
        """Wake the flusher; past the bound, wait for room or (database failing) drop."""
        if pending < self._maximum:
            if not self._wake.is_set():
                self._wake.set()
            return
        if self._thread is None or not self._thread.is_alive():
            self.start()
        # While the database is unavailable the flusher retries on its own schedule.
        if self.healthy:
            self._wake.set()
        if self.healthy and threading.current_thread() is not self._thread:
            # Wait while the flusher makes progress; give up only after it made none
            # (took no points, finished no write) for MONITORING_BUFFER_WAIT seconds.
            start = time.monotonic()
            with self._room:
                while len(self._points) > self._maximum and self.healthy:
                    idle = time.monotonic() - max(start, self._progress)
                    if idle >= self._wait:
                        break
                    self._wake.set()
                    self._room.wait(min(self._wait - idle, 0.5))
            if len(self._points) <= self._maximum:
                return
            reason = "buffer full (flusher too slow)" if self.healthy else "database unavailable"
        else:
            reason = "database unavailable"
        excess = len(self._points) - self._maximum
        dropped = 0
        for _ in range(excess):
            try:
                self._points.pop()
            except IndexError:
                break
            dropped += 1
        if dropped:
            self._drop(dropped, reason)

    def _drop(self, count: int, reason: str) -> None:
        """Count dropped points and log them at most once per flush interval."""
        with self._lock:
            self._dropped[reason] += count
            self._drops_unlogged += count
            now = time.monotonic()
            if now - self._drops_logged < self._interval:
                return
            self._drops_logged = now
            count, self._drops_unlogged = self._drops_unlogged, 0
        logger.warning(
            "Monitoring dropped %s data points (%s; MONITORING_BUFFER_MAX=%s); "
            "see monitor.stats()['dropped_reasons'].",
            count,
            reason,
            self._maximum,
        )

    def _write_now(
        self, model: type[MonitorBase], value: int | float, ns: int, dimensions: tuple | None
    ) -> None:
        """Write one point inside the caller's transaction (synchronous mode).

        A savepoint keeps a failure from breaking the caller's transaction. Rows
        the database refuses raise Refused; an unavailable database keeps the
        point for the flusher.
        """
        point = (model._point_key, value, ns, dimensions)
        alias = self._alias
        if dimensions:
            _check_related_rows(model, dimensions, alias)
        try:
            with transaction.atomic(using=alias):
                write_points([point], alias)
        except (IntegrityError, DataError) as exc:
            self._count_rejected(1, _reason(exc))
            raise Refused(
                f"The database refused a data point of {model._meta.label} "
                f"(value {value!r}): {type(exc).__name__}: {exc}"
            ) from exc
        except DatabaseError as exc:
            if self._reject_missing_tables([point], alias):
                return
            self._failed(exc, 1)
            self._points.append(point)
            self.start()
        else:
            self.written += 1

    def __len__(self) -> int:
        return len(self._points)

    # -- flushing ---------------------------------------------------------

    def flush(self, timeout: float | None = None) -> int:
        """Write every buffered point now; return how many were written.

        Never raise. Inside a transaction on the monitoring database, write
        nothing: a rollback of that transaction would take the points with it.
        The flusher thread, on its own connection, writes them instead.
        ``timeout`` bounds the wait for a flush already running in another thread.
        """
        alias = self.alias
        connection = connections[alias]
        if connection.in_atomic_block or (
            connection.connection is not None and not connection.get_autocommit()
        ):
            self.deferred_flushes += 1
            if self._points:
                self.start()
                self._wake.set()
            return 0
        return self._flush(timeout)

    def _flush(self, timeout: float | None = None) -> int:
        if not self._flush_lock.acquire(timeout=-1 if timeout is None else timeout):
            return 0
        alias = self._alias
        written = taken = 0
        started = time.monotonic()
        try:
            if self._spool_dir and self.healthy and not self._stopping:
                self._take_spool()
            while True:
                points = self._points
                batch = points[:CHUNK]
                if not batch:
                    break
                del points[: len(batch)]
                taken += len(batch)
                self._progress = time.monotonic()
                with self._room:
                    self._room.notify_all()
                done, unwritten = self._write(batch, alias)
                self._progress = time.monotonic()
                written += done
                self.written += done
                if unwritten:
                    self._keep(unwritten)
                    break
                if not self.healthy:
                    self.healthy = True
                    logger.warning("Monitoring writes data points again.")
            previous, self._last_flush = self._last_flush, time.monotonic()
            lag = started - previous if previous else None
            self._report(taken, written, self._last_flush - started, lag)
            return written
        finally:
            self._flush_lock.release()

    def _take_spool(self) -> None:
        """Take the points earlier processes spooled at exit, at most once per interval.

        They go before this process's points: they are older.
        """
        now = time.monotonic()
        if now < self._next_spool:
            return
        self._next_spool = now + self._interval
        from monitoring.storage import spool

        try:
            points, rejected = spool.take(self._spool_dir, self._maximum - len(self._points))
        except OSError as exc:
            logger.error("Monitoring could not read its spool %s: %s", self._spool_dir, exc)
            return
        for reason, count in rejected.items():
            self._count_rejected(count, reason)
        if points:
            self._points[0:0] = points
            logger.info(
                "Monitoring took %s spooled data points from %s.", len(points), self._spool_dir
            )

    def _report(self, taken: int, written: int, seconds: float, lag: float | None) -> None:
        """Tell the flush listeners what this flush did and what happened since the last."""
        with self._lock:
            rejected, dropped = sum(self._rejected.values()), sum(self._dropped.values())
        before_rejected, before_dropped = self._reported
        self._reported = (rejected, dropped)
        if not (taken or dropped - before_dropped) or not FLUSH_LISTENERS:
            return
        report = FlushReport(
            taken=taken,
            written=written,
            rejected=rejected - before_rejected,
            dropped=dropped - before_dropped,
            seconds=seconds,
            lag=lag,
        )
        for listener in list(FLUSH_LISTENERS):
            try:
                listener(report)
            except Exception:
                logger.exception("A flush listener failed.")

    def _write(self, batch: list[Point], alias: str) -> tuple[int, list[Point]]:
        """Write ``batch``; return (points written, points kept for a retry).

        Points the database refuses are split out, rejected and counted.
        """
        parts = [batch]
        written = 0
        while parts:
            part = parts.pop()
            try:
                write_points(part, alias)
            except (IntegrityError, DataError) as exc:
                self._split(part, parts, exc)
            except DatabaseError as exc:
                if self._reject_missing_tables(part, alias, parts):
                    continue
                if not _usable(alias) or _is_operational(exc):
                    self._failed(exc, sum(map(len, parts)) + len(part))
                    _close(alias)
                    return written, [p for chunk in [part, *reversed(parts)] for p in chunk]
                self._split(part, parts, exc)
            except Exception as exc:
                # A bug, or a value only the writer trips over: never block the others.
                self._split(part, parts, exc)
            else:
                written += len(part)
        return written, []

    def _split(self, part: list[Point], parts: list[list[Point]], exc: BaseException) -> None:
        if len(part) == 1:
            self._reject(part[0], exc)
            return
        half = len(part) // 2
        parts.append(part[half:])
        parts.append(part[:half])

    def _reject(self, point: Point, exc: BaseException) -> None:
        """Give up on a point the database refuses, and say which one."""
        key, value, ns, dimensions = point
        model = MODELS[key]
        reason = _reason(exc)
        self._count_rejected(1, reason)
        logger.error(
            "Monitoring rejected a data point of %s (value %r at %s, dimensions %r): %s: %s",
            model._meta.label,
            value,
            _format_ns(ns),
            dict(zip(model.dimension_names(), dimensions or (), strict=False)),
            type(exc).__name__,
            exc,
        )

    def _count_rejected(self, count: int, reason: str) -> None:
        with self._lock:
            self._rejected[reason] += count

    def _reject_missing_tables(
        self, part: list[Point], alias: str, parts: list[list[Point]] | None = None
    ) -> bool:
        """Reject the points whose tables are missing; requeue the rest. Return True if any."""
        missing = _missing_tables({MODELS[point[0]] for point in part}, alias)
        if not missing:
            return False
        kept = []
        for point in part:
            table = missing.get(MODELS[point[0]])
            if table is None:
                kept.append(point)
                continue
            self._count_rejected(1, "no table")
            if table not in self._missing_tables:
                self._missing_tables.add(table)
                logger.error(
                    "Monitoring cannot write data points of %s: the table %r does not exist "
                    "in the database %r. Create it with `python manage.py makemigrations` "
                    "(for your monitor models) and `python manage.py migrate`. Its points are "
                    "rejected and counted in monitor.stats()['rejected_reasons']['no table']; "
                    "this is said once per process.",
                    MODELS[point[0]]._meta.label,
                    table,
                    alias,
                )
        if kept and parts is not None:
            parts.append(kept)
        return True

    def _failed(self, exc: BaseException, count: int) -> None:
        self.failed_flushes += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.healthy = False
        logger.warning(
            "Monitoring could not write %s data points, the database is unavailable (%s); "
            "they stay buffered for the next flush.",
            count,
            self.last_error,
        )

    def _keep(self, points: list[Point]) -> None:
        """Put points of a failed write back before newer ones; drop the newest past the bound.

        As add() does while the database is unavailable: the oldest points, which
        waited longest, are the ones kept.
        """
        self._points[0:0] = points
        excess = len(self._points) - self._maximum
        if excess > 0:
            del self._points[self._maximum :]
            self._drop(excess, "database unavailable")

    def wake_at_request_end(self, **kwargs: Any) -> None:
        """Wake the flusher after a request that added points; never write here."""
        if self._points and time.monotonic() - self._last_flush >= REQUEST_WAKE_GAP:
            self._wake.set()

    # -- the background thread ----------------------------------------------

    def start(self) -> None:
        """Start the background thread unless it runs already."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            # Wake-ups from before the thread existed (settings changes) are stale.
            self._wake.clear()
            self._next_prune = time.monotonic() + _prune_interval()
            # The flusher's clock starts now: stats()["flush_age"] measures from here.
            self._progress = max(self._progress, time.monotonic())
            self._thread = threading.Thread(target=self._run, name="monitoring-flush", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread (it flushes once more) and wait for it."""
        thread = self._thread
        self._stopping = True
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def reset(self) -> None:
        """Stop the thread and forget every point and counter (for tests)."""
        self.stop()
        self._reset()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._direct:
                self._load_settings()
            try:
                self._tick()
            except Exception:  # pragma: no cover - _tick already guards its parts
                logger.exception("Monitoring's background thread hit an error.")
            if self._stopping:
                return

    def _tick(self) -> None:
        alias = self._alias
        try:
            if self._points:
                self._flush()
            interval = _prune_interval()
            if interval and time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + interval
                from monitoring.storage.maintenance import prune

                try:
                    prune(limit=conf.PRUNE_BATCH)
                except Exception as exc:
                    logger.warning("Monitoring could not prune old data: %s", exc)
        finally:
            # This thread's connection follows CONN_MAX_AGE, like a request's.
            connection = connections[alias]
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()

    # -- process life -------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """Start afresh in a forked child: the parent writes the points it holds."""
        self._reset()

    def flush_at_exit(self) -> None:
        """Write what is left when the process exits; retry an unavailable database a little.

        The first flush runs even with an empty buffer: it waits for one the
        background thread may be in the middle of, which would otherwise die
        with the interpreter before it commits.
        """
        self._stopping = True
        self._wake.set()
        if self._direct and not self._points:
            return  # nothing was ever added: don't read settings or open a connection
        for attempt in range(EXIT_ATTEMPTS):
            if attempt:
                if not self._points:
                    break
                time.sleep(0.2 * attempt)
            try:
                self.flush(timeout=30.0)
            except Exception as exc:  # pragma: no cover - flush never raises by design
                logger.error("Monitoring's exit flush failed: %s", exc)
                break
        left = len(self._points)
        if not left:
            return
        if self.last_error and not self.healthy:
            why = f"the database stayed unavailable ({self.last_error})"
        elif self.deferred_flushes:
            why = "the exit flush ran inside a transaction"
        else:  # pragma: no cover - every other path empties the buffer
            why = "a flush was still running"
        if self._spool_dir:
            self._spool_at_exit(left, why)
            return
        logger.error(
            "Monitoring lost %s data points at exit: %s. Set MONITORING_SPOOL_DIR to keep "
            "them on disk for the next process.",
            left,
            why,
        )

    def _spool_at_exit(self, left: int, why: str) -> None:
        """Write the points left at exit to the spool; say how many were kept and lost."""
        from monitoring.storage import spool

        points = self._points[:]
        try:
            kept = spool.save(points, self._spool_dir, self._spool_max)
        except (OSError, ValueError, TypeError) as exc:
            kept, problem = 0, f"; the spool could not be written ({exc})"
        else:
            problem = f"; the spool holds at most MONITORING_SPOOL_MAX={self._spool_max}"
        del self._points[:kept]
        if kept:
            logger.warning(
                "Monitoring spooled %s data points to %s at exit (%s); the next process "
                "that flushes writes them.",
                kept,
                self._spool_dir,
                why,
            )
        if kept < left:
            logger.error("Monitoring lost %s data points at exit: %s%s.", left - kept, why, problem)

    def stats(self) -> dict[str, Any]:
        """Return the counters of this process's buffer.

        ``pending`` points wait; ``written`` were written; ``dropped`` never
        reached the database because the buffer was full (only while the
        database is unavailable, or after waiting ``MONITORING_BUFFER_WAIT``);
        ``rejected`` were refused by the database, or have no table; the
        ``*_reasons`` dictionaries split those by reason. ``flush_age`` is
        how many seconds ago the flusher last took points, wrote some or
        started (None before it ever did).
        """
        last = max(self._last_flush, self._progress)
        with self._lock:
            dropped, rejected = dict(self._dropped), dict(self._rejected)
        return {
            "pending": len(self._points),
            "written": self.written,
            "dropped": sum(dropped.values()),
            "dropped_reasons": dropped,
            "rejected": sum(rejected.values()),
            "rejected_reasons": rejected,
            "failed_flushes": self.failed_flushes,
            "deferred_flushes": self.deferred_flushes,
            "healthy": self.healthy,
            "last_error": self.last_error,
            "thread_alive": bool(self._thread and self._thread.is_alive()),
            "flush_age": time.monotonic() - last if last else None,
        }


def _positive(value: Any, name: str, kind: type) -> Any:
    """Return a setting as a positive ``kind``, or its default: add() must not raise over it.

    System checks E006 and E007 report the bad value.
    """
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = 0
    return number if number > 0 else kind(DEFAULTS[name])


def _prune_interval() -> float:
    interval = conf.PRUNE_INTERVAL
    return float(interval) if isinstance(interval, (int, float)) and interval > 0 else 0.0


def _reason(exc: BaseException) -> str:
    """Return the reason a refused point is counted under."""
    if isinstance(exc, IntegrityError):
        return "integrity error"
    if isinstance(exc, DataError):
        return "data error"
    if isinstance(exc, DatabaseError):
        return "database error"
    return "write error"


def _is_operational(exc: BaseException) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


def _usable(alias: str) -> bool:
    """Return whether a simple query works on ``alias``: tells a down database from a bad row."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _close(alias: str) -> None:
    """Drop a broken connection so the next flush opens a new one.

    Only a broken one: a SQLite file locked by another process leaves the
    connection (and its busy timeout) as it is.
    """
    connection = connections[alias]
    if not connection.in_atomic_block and connection.connection is not None:
        if connection.is_usable():
            return
        with contextlib.suppress(Exception):  # closing a dead connection may fail too
            connection.close()


def _missing_tables(models: set[type[MonitorBase]], alias: str) -> dict[type, str]:
    """Return the models (of ``models``) whose raw or rollup tables are missing, with the table."""
    from monitoring.models import Rollup, RollupBin

    try:
        connection = connections[alias]
        with connection.cursor() as cursor:
            tables = set(connection.introspection.table_names(cursor))
    except Exception:
        return {}
    missing = {}
    rollups = [m._meta.db_table for m in (Rollup, RollupBin) if m._meta.db_table not in tables]
    for model in models:
        if model._meta.db_table not in tables:
            missing[model] = model._meta.db_table
        elif rollups:
            missing[model] = rollups[0]
    return missing


def _check_related_rows(model: type[MonitorBase], dimensions: tuple, alias: str) -> None:
    """Refuse a ForeignKey dimension whose row does not exist (synchronous mode only).

    The constraint is checked at COMMIT on PostgreSQL and SQLite, which would
    break the caller's transaction instead of this add().
    """
    for field, value in zip(model.dimension_fields(), dimensions, strict=True):
        if field.is_relation and value is not None:
            related = field.related_model._base_manager.using(alias)
            if not related.filter(**{field.target_field.attname: value}).exists():
                raise Refused(
                    f"{model.__name__}.add() got {field.name}={value!r}, but no "
                    f"{field.related_model._meta.label} has that key."
                )


def _format_ns(ns: int) -> str:
    import datetime as dt

    try:
        return (
            dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=ns // 1000)
        ).isoformat()
    except OverflowError:
        return f"{ns} ns after the Unix epoch"


#: The buffer of this process. Its hooks (request end, fork, exit) are connected
#: by MonitoringConfig.ready(), never at import.
buffer = Buffer()
