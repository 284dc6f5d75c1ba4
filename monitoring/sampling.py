"""Sampled gauges: ``monitor.sample(name, function, every="5m")``.

Some numbers are states, not events: orders awaiting shipment, rows in a
queue table. A sampled gauge calls its function once per tick of ``every``
and records the number it returns as a gauge reading, at the tick's start.

- The schedule runs through :mod:`monitoring.jobs`: one process of the whole
  deployment claims each tick. ``manage.py monitoring_sample`` samples once,
  for cron.
- Each reading goes into :class:`~monitoring.models.Sample`, whose rows are
  unique per monitor and tick, and into the rollups, in one transaction. So
  whatever samples a tick (the jobs thread, cron, two processes at once),
  the tick has exactly one reading.
- A sampler runs on a thread of its own, bounded by ``timeout`` seconds
  (10 by default). One that raises, returns something other than a number,
  or runs past its timeout is logged, reported to :data:`SAMPLE_LISTENERS`
  (the health monitors count it) and skipped until the next tick; it never
  stops the other samplers. A sampler still running from an earlier tick is
  not started again.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import math
import numbers
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, transaction

from monitoring.conf import conf
from monitoring.register import Monitor

__all__ = ["SAMPLE_LISTENERS", "SampleReport", "SampledMonitor", "SamplerError"]

logger = logging.getLogger("monitoring.sampling")

#: Seconds a sampler may run by default before it is given up for the tick.
DEFAULT_TIMEOUT = 10.0
#: The shortest and longest ``every`` of a sampled gauge, in seconds. A reading is
#: unique per whole second of its tick, so ticks under a second would share one and
#: all but the first be skipped; and a tick is Unix time rounded down to ``every``, so
#: a tick of centuries would store its readings at 1970-01-01.
MIN_EVERY = 1.0
MAX_EVERY = 366 * 86400.0


@dataclass(frozen=True)
class SampleReport:
    """What became of one sampling of the tick starting ``at``.

    ``outcome`` is ok, failed, timeout, skipped (still running from an
    earlier tick) or taken (the tick had its reading already).
    """

    name: str
    outcome: str
    at: dt.datetime
    value: float | None = None
    error: str = ""


#: Callables that get a :class:`SampleReport` after each sampling, on the sampling thread.
SAMPLE_LISTENERS: list[Callable[[SampleReport], None]] = []


class SamplerError(Exception):
    """A sampler raised, returned something other than a number, or ran past its timeout.

    ``outcome`` says which, as :class:`SampleReport` does: failed, timeout or skipped.
    """

    def __init__(self, message: str, outcome: str = "failed"):
        super().__init__(message)
        self.outcome = outcome


class SampledMonitor(Monitor):
    """A gauge whose readings come from calling a function on a schedule.

    Made by :meth:`MonitorRegistry.sample <monitoring.register.MonitorRegistry.sample>`.
    """

    def __init__(
        self,
        name: str,
        view: Callable[..., Any],
        function: Callable[[], Any],
        *,
        every: float,
        timeout: float | None,
        **options: Any,
    ):
        from monitoring.models import Sample

        super().__init__(name, view, Sample, **options)
        self.function = function
        self.every = every
        self.timeout = timeout
        self._running: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SampledMonitor {self.name!r}: every {self.every:g} s>"

    @property
    def kind(self) -> str:
        """Return ``"value"``: readings are a gauge's."""
        return "value"

    @property
    def integer(self) -> bool:
        """Return False: readings are stored as floats."""
        return False

    @property
    def job_name(self) -> str:
        """Return the name of its job (and lease) in :mod:`monitoring.jobs`."""
        return f"sample:{self.name}"

    def dimension_fields(self) -> list[Any]:
        """Return no fields: a sampled gauge has no dimensions."""
        return []

    def add(self, value: Any = None, at: dt.datetime | None = None, **dimensions: Any) -> None:
        """Raise TypeError: a sampled gauge records what its function returns, on its schedule."""
        raise TypeError(
            f"Monitor {self.name!r} is a sampled gauge: its readings come from its function "
            f"every {self.every:g} s, so add() cannot record into it. Call "
            f"monitor.get({self.name!r}).sample() to take a reading now."
        )

    def tick(self, now: float | None = None) -> dt.datetime:
        """Return the start of the tick that ``now`` (Unix seconds) falls in, as aware UTC."""
        now = time.time() if now is None else now
        return dt.datetime.fromtimestamp(now // self.every * self.every, tz=dt.timezone.utc)

    def read(self) -> float:
        """Call the function (bounded by ``timeout``) and return its number.

        Raise :class:`SamplerError` if it raises, runs too long or returns
        something other than a finite real number.
        """
        if self.timeout is None:
            return _number(self.name, _call(self.name, self.function))
        with self._lock:
            if self._running is not None and self._running.is_alive():
                raise SamplerError(
                    f"Sampler {self.name!r} is still running from an earlier tick; skipped.",
                    "skipped",
                )
            result: dict[str, Any] = {}
            thread = threading.Thread(
                target=_run_in_thread,
                args=(self.name, self.function, result),
                name=f"monitoring-sample-{self.name}",
                daemon=True,
            )
            self._running = thread
            thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise SamplerError(
                f"Sampler {self.name!r} ran past its timeout of {self.timeout:g} s; skipped.",
                "timeout",
            )
        if "error" in result:
            raise result["error"]
        return _number(self.name, result["value"])

    def sample(self, now: float | None = None) -> SampleReport:
        """Take the reading of the current tick and store it; return what became of it.

        Never raise for a failing sampler: its error is logged and reported.
        If the tick already has a reading, store nothing (outcome ``taken``).
        """
        at = self.tick(now)
        if _has_reading(self.name, at):
            return _report(SampleReport(self.name, "taken", at))
        try:
            value = self.read()
        except SamplerError as exc:
            logger.warning("%s", exc)
            return _report(SampleReport(self.name, exc.outcome, at, error=str(exc)))
        if not store(self.name, at, value):
            return _report(SampleReport(self.name, "taken", at))
        return _report(SampleReport(self.name, "ok", at, value))


def _report(report: SampleReport) -> SampleReport:
    for listener in list(SAMPLE_LISTENERS):
        try:
            listener(report)
        except Exception:
            logger.exception("A sample listener failed on %r.", report)
    return report


def _call(name: str, function: Callable[[], Any]) -> Any:
    try:
        return function()
    except Exception as exc:
        raise SamplerError(f"Sampler {name!r} raised {type(exc).__name__}: {exc}") from exc


def _run_in_thread(name: str, function: Callable[[], Any], result: dict[str, Any]) -> None:
    try:
        result["value"] = _call(name, function)
    except SamplerError as exc:
        result["error"] = exc
    finally:
        # The thread's own connections: closed here, or each sampling would leave one open.
        connections.close_all()


def _number(name: str, value: Any) -> float:
    try:
        # float() first: isfinite() of 10**400 overflows, and of Decimal("sNaN") raises.
        number = float(value)
        valid = not isinstance(value, bool) and isinstance(value, (numbers.Real, decimal.Decimal))
    except (OverflowError, ValueError, TypeError):
        valid = False
    if not valid or not math.isfinite(number):
        raise SamplerError(
            f"Sampler {name!r} returned {value!r:.200}, not a finite number; nothing recorded."
        )
    return number


def _has_reading(name: str, at: dt.datetime) -> bool:
    from monitoring.models import Sample

    return Sample.objects.using(conf.DATABASE).filter(monitor=name, tick=_tick(at)).exists()


def _tick(at: dt.datetime) -> int:
    """Return the tick starting at ``at`` (aware) as Unix seconds: unique in any time zone."""
    return int(at.timestamp())


def _db_time(at: dt.datetime) -> dt.datetime:
    from django.conf import settings

    from monitoring.buckets import site_timezone

    return at if settings.USE_TZ else at.astimezone(site_timezone()).replace(tzinfo=None)


def store(name: str, at: dt.datetime, value: float) -> bool:
    """Store ``value`` as the reading of the monitor ``name`` at ``at``, with its rollups.

    Return False, storing nothing, if that tick has a reading already: the
    row is unique per monitor and tick, and the rollups are written in the
    same transaction, only by the process whose row went in.
    """
    from monitoring.models import Sample
    from monitoring.storage.rollups import Aggregator, epoch_us
    from monitoring.storage.writer import apply_rollups

    alias = conf.DATABASE
    try:
        with transaction.atomic(using=alias):
            Sample.objects.using(alias).create(
                monitor=name, created=_db_time(at), tick=_tick(at), value=value
            )
            aggregator = Aggregator(False)
            aggregator.add(epoch_us(at), value, "")
            with connections[alias].cursor() as cursor:
                apply_rollups(cursor, name, aggregator)
    except IntegrityError:
        return False
    return True
