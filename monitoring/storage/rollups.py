"""Pre-aggregate data points into rollup buckets and histogram bins, in memory.

The same code folds freshly added points (at flush) and raw rows read back
from the database (by ``monitoring_rebuild``), so both produce identical
rollups.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from collections.abc import Iterable
from typing import Any

from django.db import models

__all__ = [
    "FLOAT_MAX",
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

#: The largest finite double: rollup sums stick there instead of overflowing.
FLOAT_MAX = sys.float_info.max

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ONE_US = dt.timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000


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
        from monitoring.buckets import site_timezone

        at = at.replace(tzinfo=site_timezone())
    return (at - _EPOCH) // _ONE_US


def dimension_value(field: models.Field, value: Any) -> Any:
    """Return ``value`` of a dimension as it goes into a rollup key (JSON-able)."""
    if field.is_relation and isinstance(value, models.Model):
        value = value.pk
    if isinstance(value, float) and value == 0:
        return 0.0  # -0.0 is the same value; SQLite even stores it as 0.0
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

    Points are folded into minutes as they come (one dictionary update per
    point); :meth:`finish` merges the minutes into minute, hour and day
    buckets. Its ``rows`` map (resolution, start, dimensions) to [count,
    sum, min, max, last, last_at] and its ``bins`` (resolution, start,
    dimensions, bin) to a count. ``day_from`` and ``minute_from`` (Unix
    seconds) skip buckets that start earlier, and ``day_until`` day buckets
    that start there or later, which a partial rebuild needs.
    """

    def __init__(
        self,
        duration: bool,
        *,
        minute_from: int | None = None,
        day_from: int | None = None,
        day_until: int | None = None,
    ):
        self.duration = duration
        self.minute_from = minute_from
        self.day_from = day_from
        self.day_until = day_until
        # (minute in µs, dimensions) -> row; a minute in which a local day starts
        # (zones whose offset has seconds) adds the point's day to the key.
        self._minutes: dict[tuple, list] = {}
        self._minute_bins: dict[tuple, int] = {}
        self._day_of_minute: dict[int, int | None] = {}

    def _minute_day(self, minute_us: int) -> int | None:
        """Return the start of the local day of a whole minute, or None if a day starts in it."""
        try:
            return self._day_of_minute[minute_us]
        except KeyError:
            minute = minute_us // 1_000_000
            first, last = _day_floor(minute), _day_floor(minute + 59.999999)
            day = self._day_of_minute[minute_us] = first if first == last else None
            return day

    def add(self, us: int, value: float, dimensions: str) -> None:
        """Fold one point: its time in microseconds, its value, its dimension key."""
        self.add_many((us,), (value,), dimensions)

    def add_many(self, times_us: Iterable[int], values: Iterable[float], dimensions: str) -> None:
        """Fold many points that share a dimension key, in one loop (the flush's hot path)."""
        minutes = self._minutes
        bins = self._minute_bins if self.duration else None
        for us, value in zip(times_us, values):  # noqa: B905 - a map() has no length
            minute_us = us - us % _US_PER_MINUTE
            key: tuple = (minute_us, dimensions)
            row = minutes.get(key)
            if row is None and self._minute_day(minute_us) is None:
                key = (minute_us, dimensions, _day_floor(us / 1_000_000))
                row = minutes.get(key)
            if row is None:
                minutes[key] = [1, value, value, value, value, us]
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
            if bins is not None:
                bin_key = (*key, bin_of(value))
                bins[bin_key] = bins.get(bin_key, 0) + 1

    def _starts(self, key: tuple) -> list[tuple[str, int]]:
        """Return the (resolution, start) buckets a minute key goes into, after the bounds."""
        minute = key[0] // 1_000_000
        day = key[2] if len(key) == 3 else self._day_of_minute[key[0]]
        starts = []
        if self.minute_from is None or minute - minute % 3600 >= self.minute_from:
            starts.append(("minute", minute))
            starts.append(("hour", minute - minute % 3600))
        if (self.day_from is None or day >= self.day_from) and (
            self.day_until is None or day < self.day_until
        ):
            starts.append(("day", day))
        return starts

    def finish(self) -> tuple[dict[tuple[str, int, str], list], dict[tuple, int]]:
        """Return (rows, bins) of every bucket, merged from the minutes."""
        rows: dict[tuple[str, int, str], list] = {}
        for key, minute_row in self._minutes.items():
            minute_row[1] = clamp(minute_row[1])
            dimensions = key[1]
            for resolution, start in self._starts(key):
                bucket = (resolution, start, dimensions)
                row = rows.get(bucket)
                if row is None:
                    rows[bucket] = list(minute_row)
                else:
                    row[0] += minute_row[0]
                    row[1] = clamp(row[1] + minute_row[1])
                    row[2] = min(row[2], minute_row[2])
                    row[3] = max(row[3], minute_row[3])
                    if minute_row[5] >= row[5]:
                        row[4], row[5] = minute_row[4], minute_row[5]
        bins: dict[tuple, int] = {}
        for key, count in self._minute_bins.items():
            dimensions, index = key[1], key[-1]
            for resolution, start in self._starts(key[:-1]):
                bucket = (resolution, start, dimensions, index)
                bins[bucket] = bins.get(bucket, 0) + count
        return rows, bins

    def __len__(self) -> int:
        return len(self._minutes)


def clamp(total: float) -> float:
    """Return a sum as a finite float: past the largest double, the largest double.

    Integer sums may outgrow what the database binds; float sums overflow to
    infinity, and infinity minus infinity is NaN, which no chart can show.
    """
    try:
        total = float(total)
    except OverflowError:
        return FLOAT_MAX if total > 0 else -FLOAT_MAX
    if total > FLOAT_MAX:
        return FLOAT_MAX
    if total < -FLOAT_MAX:
        return -FLOAT_MAX
    return total


def _day_floor(seconds: float) -> int:
    from monitoring.buckets import floor_bucket

    at = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
    start = floor_bucket(at, "day")
    return int(start.timestamp())
