"""The process-local write buffer and the background thread that flushes it.

``add()`` appends a validated point here and returns. The buffer is flushed

- at the end of each request (``request_finished``, sync and async),
- when it holds ``MONITORING_BUFFER_SIZE`` points (the background thread is woken),
- every ``MONITORING_FLUSH_INTERVAL`` seconds by the background thread,
- at interpreter exit,
- on ``monitor.flush()``.

A flush that fails keeps its points for the next one. The buffer never holds
more than ``MONITORING_BUFFER_MAX`` points: past that, points are dropped,
counted and logged. Nothing here ever raises into the code that called
``add()``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.signals import setting_changed
from django.db import connections

from monitoring.conf import DEFAULTS, conf
from monitoring.storage.writer import Batch, Columns, write_batch

if TYPE_CHECKING:
    import datetime as dt

    from monitoring.models import MonitorBase

__all__ = ["Buffer", "buffer"]

logger = logging.getLogger("monitoring.storage")

#: Flushes tried at interpreter exit before the points left are given up.
EXIT_ATTEMPTS = 5


@dataclass(frozen=True)
class _Config:
    """The settings ``add()`` needs, read once: a missing setting costs an exception per read."""

    buffered: bool
    size: int
    maximum: int
    interval: float
    alias: str


class Buffer:
    """Hold data points until a flush writes them; see the module docstring."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        # Held for a whole flush, so the points of one process are written in order.
        self._flush_lock = threading.Lock()
        self._pending: Batch = {}
        self._count = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._config: _Config | None = None
        self._next_prune = 0.0
        self.dropped = 0
        self._dropped_unreported = 0
        self.written = 0
        self.failed_flushes = 0
        self.rejected = 0
        self.last_error: str | None = None

    # -- settings ---------------------------------------------------------

    @property
    def config(self) -> _Config:
        config = self._config
        if config is None:
            config = self._config = _Config(
                buffered=bool(conf.BUFFER),
                size=_positive(conf.BUFFER_SIZE, "MONITORING_BUFFER_SIZE", int),
                maximum=_positive(conf.BUFFER_MAX, "MONITORING_BUFFER_MAX", int),
                interval=_positive(conf.FLUSH_INTERVAL, "MONITORING_FLUSH_INTERVAL", float),
                alias=conf.DATABASE,
            )
        return config

    def settings_changed(self, setting: str, **kwargs: Any) -> None:
        if setting.startswith("MONITORING_"):
            self._config = None
            self._wake.set()

    # -- adding -----------------------------------------------------------

    def add(
        self,
        model: type[MonitorBase],
        value: int | float,
        at: dt.datetime,
        dimensions: dict[str, Any] | None,
    ) -> None:
        """Keep a point for the next flush, or write it now when buffering is off."""
        config = self.config
        if not config.buffered:
            self._write_now(model, value, at, dimensions, config.alias)
            return
        with self._lock:
            if self._count >= config.maximum:
                self._drop(1)
                return
            columns = self._pending.get(model)
            if columns is None:
                columns = self._pending[model] = Columns()
            columns.append(value, at, dimensions)
            self._count += 1
            pending = self._count
        if self._thread is None:
            self.start()
        # Each time another BUFFER_SIZE points arrive: setting the event on every add()
        # past the size would cost a lock when adds outrun flushes.
        if pending % config.size == 0:
            self._wake.set()

    def _write_now(
        self,
        model: type[MonitorBase],
        value: int | float,
        at: dt.datetime,
        dimensions: dict[str, Any] | None,
        alias: str,
    ) -> None:
        columns = Columns()
        columns.append(value, at, dimensions)
        try:
            self.written += self._write({model: columns}, alias)
        except _Unwritten as unwritten:
            # Sync mode still never raises into the caller: keep the point for a retry.
            self._failed(unwritten.error, 1)
            self._keep(unwritten.batch)
            if self._thread is None:
                self.start()

    def _drop(self, count: int) -> None:
        """Count points that did not fit. Call with ``_lock`` held."""
        first = self._dropped_unreported == 0
        self.dropped += count
        self._dropped_unreported += count
        if first:
            logger.warning(
                "Monitoring buffer is full (MONITORING_BUFFER_MAX=%s): dropping data points "
                "until a flush makes room.",
                self.config.maximum,
            )

    def __len__(self) -> int:
        return self._count

    # -- flushing ---------------------------------------------------------

    def flush(self, timeout: float | None = None) -> int:
        """Write every buffered point now; return how many were written.

        Never raise: a failed flush is logged and its points stay buffered.
        ``timeout`` bounds the wait for a flush already running in another thread.
        """
        if not self._flush_lock.acquire(timeout=-1 if timeout is None else timeout):
            return 0
        try:
            with self._lock:
                batch, count = self._pending, self._count
                self._pending, self._count = {}, 0
                dropped, self._dropped_unreported = self._dropped_unreported, 0
            if dropped:
                logger.warning("Monitoring buffer dropped %s data points while full.", dropped)
            if not count:
                return 0
            alias = self.config.alias
            try:
                written = self._write(batch, alias)
            except _Unwritten as unwritten:
                self.written += unwritten.written
                self._failed(unwritten.error, unwritten.count)
                self._keep(unwritten.batch)
                return unwritten.written
            self.written += written
            return written
        finally:
            self._flush_lock.release()

    def _write(self, batch: Batch, alias: str) -> int:
        """Write ``batch`` and return how many points were written.

        When the database fails, raise _Unwritten with the points not written.
        When a point itself cannot be written (a bug, or a value only the
        writer trips over), keep it from blocking the others: halve the batch
        until the points at fault stand alone, write the rest and reject those.
        """
        try:
            write_batch(batch, alias)
            return sum(len(columns) for columns in batch.values())
        except _EXPECTED_ERRORS as exc:
            raise _Unwritten(exc, batch, 0) from exc
        except Exception as exc:
            logger.error(
                "Monitoring could not write a batch of data points (%s: %s); "
                "looking for the points at fault.",
                type(exc).__name__,
                exc,
                exc_info=True,
            )
        parts = [(model, columns) for model, columns in batch.items() if len(columns)]
        written = 0
        while parts:
            model, columns = parts.pop()
            try:
                write_batch({model: columns}, alias)
            except _EXPECTED_ERRORS as exc:
                parts.append((model, columns))
                rest: Batch = {}
                for part_model, part in parts:
                    rest.setdefault(part_model, Columns()).extend(part)
                raise _Unwritten(exc, rest, written) from exc
            except Exception as exc:
                if len(columns) == 1:
                    self._reject(model, columns, exc)
                    continue
                half = len(columns) // 2
                parts.append((model, columns.slice(half, len(columns))))
                parts.append((model, columns.slice(0, half)))
            else:
                written += len(columns)
        return written

    def _reject(self, model: type[MonitorBase], columns: Columns, exc: BaseException) -> None:
        """Give up on a point that can never be written, and say which one."""
        with self._lock:
            self.rejected += len(columns)
        logger.error(
            "Monitoring rejected a data point of %s that cannot be written "
            "(value %r at %s, dimensions %r): %s: %s",
            model._meta.label,
            columns.values[0],
            columns.times[0],
            columns.dimensions[0],
            type(exc).__name__,
            exc,
        )

    def _failed(self, exc: BaseException, count: int) -> None:
        self.failed_flushes += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        logger.warning(
            "Monitoring could not write %s data points (%s); they stay buffered for the "
            "next flush.",
            count,
            self.last_error,
            exc_info=not isinstance(exc, _EXPECTED_ERRORS),
        )

    def _keep(self, batch: Batch) -> None:
        """Put the points of a failed write back before newer ones, within the bound."""
        with self._lock:
            newer, self._pending = self._pending, {}
            self._count = 0
            room = self.config.maximum
            for part in (batch, newer):
                for model, columns in part.items():
                    kept = min(len(columns), room - self._count)
                    if kept < len(columns):
                        self._drop(len(columns) - kept)
                    if kept:
                        self._pending.setdefault(model, Columns()).extend(columns, kept)
                        self._count += kept

    def flush_at_request_end(self, **kwargs: Any) -> None:
        """Flush after a response, and close a connection the flush had to open."""
        if not self._count:
            return
        connection = connections[self.config.alias]
        was_open = connection.connection is not None
        self.flush()
        if not was_open and not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()

    # -- the background thread ----------------------------------------------

    def start(self) -> None:
        """Start the background thread unless it runs already."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._wake.clear()
            self._next_prune = time.monotonic() + _prune_interval()
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
            self._wake.wait(self.config.interval)
            self._wake.clear()
            try:
                self._tick()
            except Exception:  # pragma: no cover - _tick already guards its parts
                logger.exception("Monitoring's background thread hit an error.")
            if self._stopping:
                return

    def _tick(self) -> None:
        alias = self.config.alias
        try:
            if self._count:
                self.flush()
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
        """Start afresh in a forked child: the parent flushes the points it holds."""
        self._reset()

    def flush_at_exit(self) -> None:
        """Flush what is left when the interpreter exits, retrying a few times on errors.

        The first flush runs even with an empty buffer: it waits for one the
        background thread may be in the middle of, which would otherwise die
        with the interpreter before it commits.
        """
        self._stopping = True
        self._wake.set()
        for attempt in range(EXIT_ATTEMPTS):
            if attempt:
                if not self._count:
                    return
                time.sleep(0.2 * attempt)
            self.flush(timeout=30.0)
        if self._count:
            logger.error(
                "Monitoring lost %s data points at exit: the database refused them %s times.",
                self._count,
                EXIT_ATTEMPTS,
            )

    def stats(self) -> dict[str, Any]:
        """Return counters: points pending, written, dropped, rejected, failed flushes, last error.

        ``rejected`` counts points that the database did not fail on but that
        could never be written; each one is logged with its value and time.
        """
        return {
            "pending": self._count,
            "written": self.written,
            "dropped": self.dropped,
            "failed_flushes": self.failed_flushes,
            "rejected": self.rejected,
            "last_error": self.last_error,
            "thread_alive": bool(self._thread and self._thread.is_alive()),
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
    return float(interval) if interval else 0.0


class _Unwritten(Exception):
    """The database failed: ``batch`` holds the points not written, ``written`` the others."""

    def __init__(self, error: BaseException, batch: Batch, written: int):
        super().__init__(str(error))
        self.error = error
        self.batch = batch
        self.written = written
        self.count = sum(len(columns) for columns in batch.values())


def _expected_errors() -> tuple[type[BaseException], ...]:
    from django.db import DatabaseError

    return (DatabaseError,)


_EXPECTED_ERRORS = _expected_errors()

#: The buffer of this process.
buffer = Buffer()

setting_changed.connect(buffer.settings_changed, dispatch_uid="monitoring.buffer.settings")
os.register_at_fork(after_in_child=buffer.after_fork_in_child)
atexit.register(buffer.flush_at_exit)
