"""Pre-aggregate data points into rollup buckets and histogram bins, in memory.

The same code folds freshly added points (at flush) and raw rows read back
from the database (by ``monitoring_rebuild``), so both produce identical
rollups.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

__all__ = [
    "GAMMA",
    "ZERO_BIN",
    "Aggregator",
    "bin_of",
    "bin_value",
    "dimension_key",
    "dimension_value",
    "epoch_us",
]

#: Ratio between the bounds of two neighbouring histogram bins. A bin's
#: representative value is off by at most (GAMMA - 1) / (GAMMA + 1) = 4.3%
#: from any timing in it.
GAMMA = 1.09
_LOG_GAMMA = math.log(GAMMA)
#: Timings below this many milliseconds (a microsecond) share one bin, read as 0.
SMALLEST_BINNED = 1e-3
#: The bin of timings below SMALLEST_BINNED.
ZERO_BIN = -1000

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ONE_US = dt.timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
_US_PER_HOUR = 3_600_000_000


def bin_of(value: float) -> int:
    """Return the histogram bin of a timing ``value`` (ms)."""
    if value < SMALLEST_BINNED:
        return ZERO_BIN
    return math.floor(math.log(value) / _LOG_GAMMA)


def bin_value(index: int) -> float:
    """Return the value that stands for every timing in bin ``index``."""
    if index == ZERO_BIN:
        return 0.0
    # The point of [GAMMA**i, GAMMA**(i+1)) with the same relative error to both ends.
    return 2 * GAMMA ** (index + 1) / (GAMMA + 1)


def epoch_us(at: dt.datetime) -> int:
    """Return ``at`` as whole microseconds since the Unix epoch; naive means site time."""
    if at.tzinfo is None:
        from monitoring.queries import site_timezone

        at = at.replace(tzinfo=site_timezone())
    return (at - _EPOCH) // _ONE_US


def dimension_value(field: models.Field, value: Any) -> Any:
    """Return ``value`` of a dimension as it goes into a rollup key (JSON-able)."""
    if field.is_relation and isinstance(value, models.Model):
        value = value.pk
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def dimension_key(names: Iterable[str], values: Iterable[Any]) -> str:
    """Return the canonical rollup key of some dimension values: sorted-key JSON, "" for none."""
    pairs = dict(zip(names, values, strict=True))
    if not pairs:
        return ""
    return json.dumps(pairs, sort_keys=True, separators=(",", ":"), default=str)


class Aggregator:
    """Fold data points of one monitor into per-bucket aggregates and bins.

    ``rows`` maps (resolution, start, dimensions) to [count, sum, min, max,
    last, last_at]; ``bins`` maps (resolution, start, dimensions, bin) to a
    count. ``day_from`` and ``minute_from`` (Unix seconds) skip buckets that
    start earlier, which a partial rebuild needs.
    """

    def __init__(
        self, duration: bool, *, minute_from: int | None = None, day_from: int | None = None
    ):
        self.duration = duration
        self.rows: dict[tuple[str, int, str], list] = {}
        self.bins: dict[tuple[str, int, str, int], int] = {}
        self.minute_from = minute_from
        self.day_from = day_from
        self._day_of_minute: dict[int, int | None] = {}

    def _day_start(self, us: int, minute: int) -> int:
        """Return the start of the local day holding ``us``, cached per minute."""
        try:
            day = self._day_of_minute[minute]
        except KeyError:
            first, last = _day_floor(minute), _day_floor(minute + 59.999999)
            # A zone whose offset has seconds (old local mean times) can start a
            # day inside a minute; then each point's day is computed on its own.
            day = self._day_of_minute[minute] = first if first == last else None
        return day if day is not None else _day_floor(us / 1_000_000)

    def add(self, us: int, value: float, dimensions: str) -> None:
        """Fold one point: its time in microseconds, its value, its dimension key."""
        minute_us = us - us % _US_PER_MINUTE
        minute = minute_us // 1_000_000
        starts = (
            ("minute", minute),
            ("hour", (us - us % _US_PER_HOUR) // 1_000_000),
            ("day", self._day_start(us, minute)),
        )
        rows = self.rows
        for resolution, start in starts:
            if self.minute_from is not None and resolution != "day" and start < self.minute_from:
                continue
            if self.day_from is not None and resolution == "day" and start < self.day_from:
                continue
            key = (resolution, start, dimensions)
            row = rows.get(key)
            if row is None:
                rows[key] = [1, value, value, value, value, us]
            else:
                row[0] += 1
                row[1] += value
                if value < row[2]:
                    row[2] = value
                if value > row[3]:
                    row[3] = value
                if us >= row[5]:
                    row[4] = value
                    row[5] = us
            if self.duration:
                bin_key = (resolution, start, dimensions, bin_of(value))
                self.bins[bin_key] = self.bins.get(bin_key, 0) + 1

    def __len__(self) -> int:
        return len(self.rows)


def _day_floor(seconds: float) -> int:
    from monitoring.queries import floor_bucket

    at = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    start = floor_bucket(at, "day")
    return int(start.timestamp())


def from_epoch(seconds: int) -> dt.datetime:
    """Return Unix time ``seconds`` as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def now_us() -> int:
    """Return now, in microseconds since the Unix epoch."""
    return epoch_us(timezone.now())
