"""Read a monitor's data as a series of time buckets, from its rollups.

:func:`get_series` is the one public entry point; views and the handle's
``series()`` call it. It reads only the rollup tables that
:mod:`monitoring.storage` keeps, never the raw rows, so a chart costs a few
thousand rows at most whatever the number of events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import F, Max, Min, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from monitoring.buckets import (
    BUCKET_SIZES,
    RESOLUTIONS,
    bucket_starts,
    count_buckets,
    floor_bucket,
    next_bucket,
    site_timezone,
    to_utc,
)
from monitoring.conf import conf
from monitoring.register import Monitor, monitor
from monitoring.storage.rollups import bin_value, dimension_value

__all__ = [
    "BUCKET_SIZES",
    "MAX_BUCKETS",
    "MAX_POINTS",
    "RESOLUTIONS",
    "STATS",
    "WINDOW_STATS",
    "Group",
    "Series",
    "bucket_starts",
    "choose_resolution",
    "count_buckets",
    "floor_bucket",
    "get_series",
    "last_point",
    "next_bucket",
    "site_timezone",
    "window_stat",
    "window_values",
]

#: ``resolution="auto"`` picks the finest bucket size that keeps a series at
#: most this long: a chart people read at a glance, not a barcode.
MAX_POINTS = 120

#: The stats of each kind, in the order charts draw them.
STATS: dict[str, tuple[str, ...]] = {
    "count": ("sum",),
    "value": ("avg", "min", "max", "last"),
    "duration": ("count", "p50", "p95", "p99", "max"),
}

#: The stats of each kind that :func:`window_stat` computes over a whole window:
#: every stat a chart draws, and the others its rollups hold.
WINDOW_STATS: dict[str, tuple[str, ...]] = {
    "count": ("sum", "count"),
    "value": ("avg", "min", "max", "last", "count"),
    "duration": ("count", "avg", "min", "max", "p50", "p95", "p99"),
}

#: The most buckets read to compute a headline number and its previous period.
SUMMARY_BUCKETS = 20_000

#: The most buckets :func:`get_series` answers with, whatever the resolution.
MAX_BUCKETS = 15_000

#: What the headline number of each kind is.
SUMMARY_STATS: dict[str, str] = {"count": "total", "value": "last", "duration": "p95"}

#: The label of the group that sums the dimension values outside the top N.
OTHER = "other"


@dataclass(frozen=True)
class Group:
    """The series of one dimension value (or of every value outside the top N)."""

    label: str
    values: dict[str, list[int | float | None]]
    total: int | float
    #: True for the group of every value outside the top N (labelled ``other``).
    other: bool = False


@dataclass(frozen=True)
class Series:
    """A monitor's data over a range: one value per bucket for each stat of its kind.

    ``values[stat][i]`` belongs to the bucket starting at ``buckets[i]``.
    Empty buckets hold 0 for ``sum`` and ``count`` and None for every other
    stat. ``summary`` is the headline number (``summary_stat``: the total of
    a count, the last reading of a gauge, the p95 of a duration) and
    ``previous_summary`` the same figure for the period of equal length just
    before ``start``. Both are read from the finest rollups still retained
    for the two periods (minute rollups for ranges within the minute
    retention, else hour, else day), so their edges are exact to that
    resolution even when the chart draws coarser buckets.
    """

    name: str
    kind: str
    resolution: str
    start: dt.datetime
    end: dt.datetime
    buckets: list[dt.datetime]
    values: dict[str, list[int | float | None]]
    summary: int | float | None
    previous_summary: int | float | None
    summary_stat: str
    groups: list[Group] = field(default_factory=list)
    split_by: str | None = None


def choose_resolution(
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    limit: int = MAX_POINTS,
    sizes: Iterable[str] = BUCKET_SIZES,
) -> str:
    """Return the finest bucket size that keeps ``[start, end)`` at most ``limit`` buckets.

    ``sizes`` are the candidates, finest first: every bucket size a chart can
    draw (:data:`~monitoring.buckets.BUCKET_SIZES`), or only the stored
    resolutions. Skip sizes whose rollups ``MONITORING_RETENTION`` has
    already pruned at ``start``, so an old range is read from the coarser
    rollups that still hold it rather than coming back empty.
    """
    start, end = to_utc(start), to_utc(end)
    now = to_utc(now if now is not None else timezone.now())
    retention = conf.RETENTION
    span = end - start
    names = list(sizes)
    for name in names:
        width, base = BUCKET_SIZES[name]
        days = retention.get(base) if isinstance(retention, dict) else None
        if days is not None and start < now - dt.timedelta(days=days):
            continue
        if span / width <= limit:
            return name
    return names[-1]


class _Bucket:
    """The merged rollups of one bucket (or of a whole range): the stats of every kind."""

    __slots__ = ("bins", "count", "last", "last_at", "max", "min", "sum")

    def __init__(self) -> None:
        self.count = 0
        self.sum = 0.0
        self.min: float | None = None
        self.max: float | None = None
        self.last: float | None = None
        self.last_at = -(2**63)
        self.bins: dict[int, int] = {}

    def merge_row(self, count: int, sum_: float, min_: float, max_: float, last, last_at) -> None:
        self.count += count
        self.sum += sum_
        self.min = min_ if self.min is None or min_ < self.min else self.min
        self.max = max_ if self.max is None or max_ > self.max else self.max
        if last_at >= self.last_at:
            self.last, self.last_at = last, last_at

    def merge(self, other: _Bucket) -> None:
        if other.count:
            self.merge_row(other.count, other.sum, other.min, other.max, other.last, other.last_at)
        for index, count in other.bins.items():
            self.bins[index] = self.bins.get(index, 0) + count

    def percentile(self, q: float) -> float | None:
        """Return the nearest-rank percentile ``q`` (0-100) from the histogram bins."""
        total = sum(self.bins.values())
        if not total:
            return None
        rank = max(1, math.ceil(q / 100 * total))
        seen = 0
        for index in sorted(self.bins):
            seen += self.bins[index]
            if seen >= rank:
                # The bin's value is within 4.3%; the true min and max are exact bounds.
                try:
                    value = bin_value(index)
                except OverflowError:  # the bin of values near the float maximum
                    value = math.inf
                return min(max(value, self.min), self.max)
        return self.max  # pragma: no cover - the loop always reaches the rank


def _number(value: float | None, integer: bool) -> int | float | None:
    if value is None or not integer or not math.isfinite(value):
        return value
    return round(value)


def _stats(kind: str, bucket: _Bucket, integer: bool) -> dict[str, Any]:
    """Return every stat of ``kind`` for ``bucket``, empty stats filled (0 or None)."""
    if kind == "count":
        return {"sum": _number(bucket.sum, integer) if bucket.count else 0}
    if not bucket.count:
        return {stat: (0 if stat == "count" else None) for stat in STATS[kind]}
    if kind == "value":
        return {
            "avg": bucket.sum / bucket.count,
            "min": _number(bucket.min, integer),
            "max": _number(bucket.max, integer),
            "last": _number(bucket.last, integer),
        }
    return {
        "count": bucket.count,
        "p50": bucket.percentile(50),
        "p95": bucket.percentile(95),
        "p99": bucket.percentile(99),
        "max": bucket.max,
    }


def _window_stat(kind: str, stat: str, bucket: _Bucket, integer: bool) -> int | float | None:
    """Return one stat of :data:`WINDOW_STATS` for ``bucket``; 0 or None when it is empty."""
    if stat == "count":
        return bucket.count
    if stat == "sum":
        return _number(bucket.sum, integer) if bucket.count else 0
    if not bucket.count:
        return None
    if stat == "avg":
        return bucket.sum / bucket.count
    if stat in ("p50", "p95", "p99"):
        return bucket.percentile(int(stat[1:]))
    return _number(getattr(bucket, stat), integer)


def _summary(kind: str, bucket: _Bucket, integer: bool) -> int | float | None:
    if kind == "count":
        return _number(bucket.sum, integer) if bucket.count else 0
    if not bucket.count:
        return None
    if kind == "value":
        return _number(bucket.last, integer)
    return bucket.percentile(95)


def _clean_filters(handle: Monitor, filters: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Return the filters as rollup key values per dimension, or raise ValueError."""
    fields = {field.name: field for field in handle.dimension_fields()}
    cleaned = {}
    for name, wanted in (filters or {}).items():
        if name not in fields:
            valid = ", ".join(repr(d) for d in fields) or "none"
            raise ValueError(
                f"Monitor {handle.name!r} has no dimension {name!r}; valid dimensions: {valid}."
            )
        if not isinstance(wanted, (list, tuple, set, frozenset)):
            wanted = [wanted]
        if handle.stored:
            cleaned[name] = [_key_value(fields[name], value) for value in wanted]
        else:
            cleaned[name] = _python_values(fields[name], wanted)
    return cleaned


def _python_values(field: Any, wanted: Iterable[Any]) -> list[Any]:
    """Return filter values as a table's field compares them; values it refuses match nothing."""
    values = []
    for value in wanted:
        if field.is_relation and hasattr(value, "pk"):
            value = value.pk
        try:
            values.append(field.to_python(value))
        except ValidationError:
            continue
    return values


def _key_value(field: Any, value: Any) -> Any:
    """Return a filter value as the rollups store it (``"5"`` matches an integer 5)."""
    # A value the field refuses matches nothing, as a filter on the raw rows would.
    with contextlib.suppress(ValidationError):
        value = field.to_python(value)
    return dimension_value(field, value)


class _FloatSum(Sum):
    """Sum a float column without failing past the largest double.

    PostgreSQL raises "value out of range" when a float8 sum overflows, where
    Python (and SQLite) give infinity; summed as numeric, the sum reaches
    Python whole, and ``float()`` makes it infinity too.
    """

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="%(function)s(CAST(%(expressions)s AS numeric))", **extra
        )


class _Reader:
    """Read one monitor's rollups of one resolution, merged per bucket and per split value.

    Filters are applied in SQL: a pattern on the dimension keys narrows the
    rows to those that may match, the few distinct keys left are checked
    exactly in Python, and the rows are then read by those keys alone.
    """

    def __init__(
        self,
        handle: Monitor,
        resolution: str,
        filters: dict[str, list[Any]],
        split_by: str | None,
    ):
        self.handle = handle
        self.resolution = resolution
        self.filters = filters
        self.split_by = split_by
        self._labels: dict[str, str | None] = {}

    def _label(self, dimensions: str) -> str | None:
        """Return the split label of a dimension key, or None if the filters exclude it."""
        try:
            return self._labels[dimensions]
        except KeyError:
            pass
        values = json.loads(dimensions) if dimensions else {}
        label: str | None = ""
        for name, wanted in self.filters.items():
            if values.get(name) not in wanted:
                label = None
                break
        if label is not None and self.split_by is not None:
            label = str(values.get(self.split_by))
        self._labels[dimensions] = label
        return label

    def _narrowed(self) -> Q:
        """Return a condition on the dimension keys that every key the filters want meets.

        Keys are canonical JSON (``{"plan":"pro","region":"eu"}``), so a wanted
        value appears as ``"plan":"pro"`` followed by ``,`` or ``}``. It is a
        superset: SQLite's LIKE ignores case, so :meth:`wanted_keys` checks
        the keys it lets through.
        """
        condition = Q()
        for name, wanted in self.filters.items():
            if None in wanted:
                continue  # a key without the dimension has it None too: no pattern for that
            either = Q(pk__in=[])
            for value in wanted:
                pair = f"{json.dumps(name)}:{json.dumps(value, separators=(',', ':'), default=str)}"
                either |= Q(dimensions__contains=f"{pair},") | Q(dimensions__endswith=f"{pair}}}")
            condition &= either
        return condition

    def _rows(
        self,
        start_s: int,
        end_s: int,
        keys: list[str] | None = None,
        model: Any = None,
        exclude: list[str] | None = None,
    ) -> Any:
        from monitoring.models import Rollup

        rows = (
            (model or Rollup)
            .objects.using(conf.DATABASE)
            .filter(
                monitor=self.handle.name,
                resolution=self.resolution,
                start__gte=start_s,
                start__lt=end_s,
            )
        )
        if keys is not None:
            rows = rows.filter(dimensions__in=keys)
        return rows.exclude(dimensions__in=exclude) if exclude else rows

    def key_totals(self, start_s: int, end_s: int) -> dict[str, _Bucket]:
        """Return the count and sum of each dimension key over the span, summed in SQL.

        With filters, only the keys their pattern lets through (see :meth:`_narrowed`).
        """
        totals = {}
        rows = self._rows(start_s, end_s)
        if self.filters:
            rows = rows.filter(self._narrowed())
        rows = rows.order_by().values("dimensions")
        for dims, count, sum_ in rows.annotate(n=Sum("count"), s=_FloatSum("sum")).values_list(
            "dimensions", "n", "s"
        ):
            bucket = totals[dims] = _Bucket()
            bucket.count, bucket.sum = count, sum_
        return totals

    def wanted_keys(self, keys: Iterable[str]) -> list[str] | None:
        """Return the keys the filters let through; None without filters (every key)."""
        if not self.filters:
            return None
        return [key for key in keys if self._label(key) is not None]

    def ranked_labels(
        self, start_s: int, end_s: int
    ) -> tuple[list[str] | None, list[str], dict[str, _Bucket], dict[str, list[str]]]:
        """Return what a split needs of the keys in the span, from one ``GROUP BY dimensions``.

        That is: the keys the filters let through (None: every key), the split
        labels ranked by their group total (see :func:`_group_total`), and per
        label its count and sum and its keys.
        """
        key_totals = self.key_totals(start_s, end_s)
        keys = self.wanted_keys(key_totals)
        totals: dict[str, _Bucket] = defaultdict(_Bucket)
        label_keys: dict[str, list[str]] = defaultdict(list)
        for key in key_totals if keys is None else keys:
            label = self._label(key)
            totals[label].count += key_totals[key].count
            totals[label].sum += key_totals[key].sum
            label_keys[label].append(key)
        kind = self.handle.kind
        ranked = sorted(totals, key=lambda label: (-_group_total(kind, totals[label]), label))
        return keys, ranked, totals, label_keys

    def keys(self, start_s: int, end_s: int) -> list[str] | None:
        """Return the dimension keys in the span that the filters let through; None without."""
        if not self.filters:
            return None
        return self.wanted_keys(self.key_totals(start_s, end_s))

    def read_counts(self, start_s: int, end_s: int, keys: list[str] | None) -> dict[int, _Bucket]:
        """Return {bucket start: count and sum} over ``keys`` (None: every key), summed in SQL.

        Enough for a count monitor, whose buckets show only their sum.
        """
        result: dict[int, _Bucket] = {}
        rows = self._rows(start_s, end_s, keys).order_by().values("start")
        for start, count, sum_ in rows.annotate(n=Sum("count"), s=Sum("sum")).values_list(
            "start", "n", "s"
        ):
            bucket = result[start] = _Bucket()
            bucket.count, bucket.sum = count, sum_
        return result

    def read_merged(
        self,
        start_s: int,
        end_s: int,
        keys: list[str] | None,
        exclude: list[str] | None = None,
    ) -> dict[int, _Bucket]:
        """Return {bucket start: bucket} of the rows of ``keys`` less ``exclude``, merged in SQL.

        Every stat of every kind: count, sum, min and max aggregated per bucket,
        the last reading of each bucket picked by a window function, and for
        durations the histogram bins summed per bucket. ``keys`` None reads every key.
        """
        from monitoring.models import RollupBin

        result: dict[int, _Bucket] = {}
        rows = self._rows(start_s, end_s, keys, exclude=exclude)
        merged = rows.order_by().values("start")
        merged = merged.annotate(
            n=Sum("count"), s=_FloatSum("sum"), lo=Min("min"), hi=Max("max"), at=Max("last_at")
        )
        for start, count, sum_, min_, max_, last_at in merged.values_list(
            "start", "n", "s", "lo", "hi", "at"
        ):
            bucket = result[start] = _Bucket()
            bucket.merge_row(count, sum_, min_, max_, None, last_at)
        if not result:
            return result
        # The last reading of each bucket: its latest row's, one row per bucket.
        latest = rows.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("start")],
                order_by=[F("last_at").desc(), F("last").desc()],
            )
        )
        for start, last in latest.filter(rank=1).values_list("start", "last"):
            result[start].last = last
        if self.handle.kind == "duration":
            bins = self._rows(start_s, end_s, keys, model=RollupBin, exclude=exclude)
            bins = bins.order_by().values("start", "bin").annotate(n=Sum("count"))
            for start, index, count in bins.values_list("start", "bin", "n"):
                bucket = result.get(start)
                if bucket is not None:
                    bucket.bins[index] = count
        return result

    def read(
        self, start_s: int, end_s: int, keys: list[str] | None = None
    ) -> dict[str, dict[int, _Bucket]]:
        """Return {split label: {bucket start: merged bucket}} for buckets in [start_s, end_s).

        ``keys`` limits the rows read to those dimension keys; without, the
        keys the filters let through (every key without filters).
        """
        from monitoring.models import RollupBin

        if keys is None:
            keys = self.keys(start_s, end_s)
        result: dict[str, dict[int, _Bucket]] = defaultdict(dict)
        rows = self._rows(start_s, end_s, keys)
        for start, dims, count, sum_, min_, max_, last, last_at in rows.values_list(
            "start", "dimensions", "count", "sum", "min", "max", "last", "last_at"
        ):
            label = self._label(dims)
            if label is None:
                continue
            bucket = result[label].get(start)
            if bucket is None:
                bucket = result[label][start] = _Bucket()
            bucket.merge_row(count, sum_, min_, max_, last, last_at)
        if self.handle.kind == "duration":
            bins = self._rows(start_s, end_s, keys, model=RollupBin)
            for start, dims, index, count in bins.values_list(
                "start", "dimensions", "bin", "count"
            ):
                label = self._label(dims)
                if label is None:
                    continue
                bucket = result[label].get(start)
                if bucket is None:  # pragma: no cover - a bin always has its rollup
                    bucket = result[label][start] = _Bucket()
                bucket.bins[index] = bucket.bins.get(index, 0) + count
        return result


def _values(
    kind: str, starts: list[int], buckets: dict[int, _Bucket], integer: bool
) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {stat: [] for stat in STATS[kind]}
    empty = _Bucket()
    for start in starts:
        for stat, result in _stats(kind, buckets.get(start, empty), integer).items():
            values[stat].append(result)
    return values


def _total(buckets: Iterable[_Bucket]) -> _Bucket:
    total = _Bucket()
    for bucket in buckets:
        total.merge(bucket)
    return total


def _flush_own_points() -> None:
    """Write what this process has buffered, so that it reads its own data points.

    Not inside a transaction on the monitoring database: the caller's
    transaction might still roll back, taking the points with it.
    """
    from monitoring.storage import buffer

    if len(buffer) and not connections[conf.DATABASE].in_atomic_block:
        buffer.flush()


def get_series(
    name: str | Monitor,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    resolution: str = "auto",
    filters: dict[str, Any] | None = None,
    split_by: str | None = None,
    top: int = 5,
) -> Series:
    """Return the series of the monitor ``name`` over ``[start, end)``.

    ``end`` defaults to now and ``start`` to one day before ``end``.
    ``resolution`` is a bucket size of
    :data:`~monitoring.buckets.BUCKET_SIZES` (``"minute"``, ``"5min"``,
    ``"15min"``, ``"hour"``, ``"3h"``, ``"6h"``, ``"12h"``, ``"day"``,
    ``"week"``) or ``"auto"``: the finest that keeps the series at most
    :data:`MAX_POINTS` buckets long. Sizes between the stored resolutions
    are summed from the rollups of the finer one.
    ``filters`` maps dimension names to a value or a list of values.
    ``split_by`` names a dimension: the series then also has one
    :class:`Group` per value, the ``top`` values by total first and the rest
    summed into ``"other"``. Raise NotRegistered for an unknown monitor and
    ValueError for a bad range, resolution, filter or dimension.

    It reads rollups only. Points this process still has buffered are
    flushed first (outside a transaction), so a process sees what it added.
    """
    handle = name if isinstance(name, Monitor) else monitor.get(name)
    if handle.stored:
        _flush_own_points()
    # In UTC even when now() is naive (USE_TZ = False), so every comparison below is aware.
    end = to_utc(end if end is not None else timezone.now())
    start = to_utc(start) if start is not None else end - dt.timedelta(days=1)
    if start >= end:
        raise ValueError(f"start ({start.isoformat()}) must be before end ({end.isoformat()}).")
    if resolution == "auto":
        # A table monitor reads its own table, which no retention setting prunes.
        resolution = choose_resolution(start, end, now=None if handle.stored else start)
    elif resolution not in BUCKET_SIZES:
        raise ValueError(
            f"Unknown resolution {resolution!r}; choose auto or one of {', '.join(BUCKET_SIZES)}."
        )
    cleaned = _clean_filters(handle, filters)
    if split_by is not None and split_by not in handle.dimension_names():
        valid = ", ".join(repr(d) for d in handle.dimension_names()) or "none"
        raise ValueError(
            f"Monitor {handle.name!r} has no dimension {split_by!r} to split by; "
            f"valid dimensions: {valid}."
        )
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a whole number of at least 1, got {top!r}.")

    # Counted before they are listed: a minute resolution over centuries is billions.
    count = count_buckets(start, end, resolution)
    if count > MAX_BUCKETS:
        raise ValueError(f"{count} {resolution} buckets is too many; choose a coarser resolution.")
    starts = bucket_starts(start, end, resolution)
    if not handle.stored:
        from monitoring.tables import table_series

        return table_series(
            handle,
            start=start,
            end=end,
            resolution=resolution,
            starts=starts,
            filters=cleaned,
            split_by=split_by,
            top=top,
        )
    range_start, range_end = starts[0], next_bucket(starts[-1], resolution)
    kind = handle.kind
    integer = handle.integer
    epochs = [int(bucket.timestamp()) for bucket in starts]
    first_s, end_s = epochs[0], int(range_end.timestamp())

    base = BUCKET_SIZES[resolution][1]
    reader = _Reader(handle, base, cleaned, split_by)
    groups: list[Group] = []
    if kind == "count":
        # Counts are summed, filtered and ranked in SQL: a split by a dimension with
        # thousands of values reads one row per bucket, plus the rows of the top N.
        buckets, groups = _count_series(reader, first_s, end_s, resolution, epochs, top, integer)
    else:
        # Gauges and durations too: filtered by key and merged per bucket in SQL, the
        # rows of the top N values read one by one and "other" merged by the database.
        buckets, groups = _reading_series(reader, first_s, end_s, resolution, epochs, top)
    values = _values(kind, epochs, buckets, integer)

    # The headline covers [start, end) and the previous period the same span
    # before it, read at the finest resolution still retained for both: a
    # 90-day chart draws day buckets, but its total should not count the
    # part of the first day that lies before start.
    span = end - start
    summary_resolution = choose_resolution(
        start - span, end, limit=SUMMARY_BUCKETS, sizes=RESOLUTIONS
    )
    if RESOLUTIONS[summary_resolution] > RESOLUTIONS[base]:
        summary_resolution = base
    unsplit = _Reader(handle, summary_resolution, cleaned, None)
    edges = [
        int(floor_bucket(moment, summary_resolution).timestamp())
        for moment in (start - span, start, end)
    ]
    # A bucket belongs to a period when it starts inside it; end itself is exclusive.
    end_s = edges[2] if floor_bucket(end, summary_resolution) == end else edges[2] + 1
    keys = unsplit.keys(edges[0], end_s)
    read_period = unsplit.read_counts if kind == "count" else unsplit.read_merged

    def period(first: int, stop: int) -> _Bucket:
        return _total(read_period(first, stop, keys).values())

    if summary_resolution == resolution:
        # The chart's own buckets are exactly the current period's: don't read them twice.
        current = _total(buckets.values())
    else:
        current = period(edges[1], end_s)
    previous = period(edges[0], edges[1])
    return Series(
        name=handle.name,
        kind=kind,
        resolution=resolution,
        start=range_start,
        end=range_end,
        buckets=starts,
        values=values,
        summary=_summary(kind, current, integer),
        previous_summary=_summary(kind, previous, integer),
        summary_stat=SUMMARY_STATS[kind],
        groups=groups,
        split_by=split_by,
    )


def _count_series(
    reader: _Reader,
    first_s: int,
    end_s: int,
    resolution: str,
    epochs: list[int],
    top: int,
    integer: bool,
) -> tuple[dict[int, _Bucket], list[Group]]:
    """Return the buckets and groups of a count monitor, aggregated by the database.

    The total per bucket is one ``GROUP BY start``; a split ranks the
    dimension keys by one ``GROUP BY dimensions``, reads the rows of the top
    N values only, and finds "other" as the total less the top N.
    """
    if reader.split_by is None and not reader.filters:
        # The plain chart, most of the dashboard's: one query, no ranking.
        return _regrouped_counts(reader, first_s, end_s, resolution, None), []
    keys, ranked, label_totals, label_keys = reader.ranked_labels(first_s, end_s)
    buckets = _regrouped_counts(reader, first_s, end_s, resolution, keys)
    regroup = reader.resolution != resolution
    groups: list[Group] = []
    if reader.split_by is None:
        return buckets, groups
    chosen = ranked[:top]
    by_label = reader.read(first_s, end_s, [key for label in chosen for key in label_keys[label]])
    if regroup:
        by_label = _regroup(by_label, resolution)
    for label in chosen:
        groups.append(
            Group(
                label,
                _values("count", epochs, by_label.get(label, {}), integer),
                _group_total("count", label_totals[label], integer),
            )
        )
    if ranked[top:]:
        other: dict[int, _Bucket] = {}
        for start, bucket in buckets.items():
            rest = other[start] = _Bucket()
            rest.count, rest.sum = bucket.count, bucket.sum
            for label in chosen:
                part = by_label.get(label, {}).get(start)
                if part is not None:
                    rest.count -= part.count
                    rest.sum -= part.sum
        groups.append(
            Group(
                OTHER,
                _values("count", epochs, other, integer),
                _group_total("count", _total(b for b in other.values() if b.count), integer),
                other=True,
            )
        )
    return buckets, groups


def _reading_series(
    reader: _Reader,
    first_s: int,
    end_s: int,
    resolution: str,
    epochs: list[int],
    top: int,
) -> tuple[dict[int, _Bucket], list[Group]]:
    """Return the buckets and groups of a gauge or a duration, filtered and ranked in SQL.

    Unsplit, the buckets are merged by the database. A split ranks the keys
    by their number of points in one ``GROUP BY dimensions``, reads the rows
    of the top N values, and has the database merge the rest into "other";
    the chart's buckets are the groups merged.
    """
    kind = reader.handle.kind
    integer = reader.handle.integer

    def regrouped(buckets: dict[int, _Bucket]) -> dict[int, _Bucket]:
        if reader.resolution == resolution:
            return buckets
        return _regroup({"": buckets}, resolution)[""]

    if reader.split_by is None:
        return regrouped(reader.read_merged(first_s, end_s, reader.keys(first_s, end_s))), []
    keys, ranked, label_totals, label_keys = reader.ranked_labels(first_s, end_s)
    chosen = ranked[:top]
    chosen_keys = [key for label in chosen for key in label_keys[label]]
    by_label = reader.read(first_s, end_s, chosen_keys) if chosen_keys else {}
    if reader.resolution != resolution:
        by_label = _regroup(by_label, resolution)
    parts = [by_label.get(label, {}) for label in chosen]
    groups = [
        Group(label, _values(kind, epochs, part, integer), _group_total(kind, label_totals[label]))
        for label, part in zip(chosen, parts, strict=True)
    ]
    if ranked[top:]:
        other = regrouped(reader.read_merged(first_s, end_s, keys, exclude=chosen_keys))
        parts.append(other)
        groups.append(
            Group(
                OTHER,
                _values(kind, epochs, other, integer),
                _group_total(kind, _total(other.values())),
                other=True,
            )
        )
    buckets: dict[int, _Bucket] = defaultdict(_Bucket)
    for part in parts:
        for bucket_start, bucket in part.items():
            buckets[bucket_start].merge(bucket)
    return buckets, groups


def _regrouped_counts(
    reader: _Reader, first_s: int, end_s: int, resolution: str, keys: list[str] | None
) -> dict[int, _Bucket]:
    """Return the count buckets of ``keys`` in ``[first_s, end_s)``, merged to ``resolution``."""
    buckets = reader.read_counts(first_s, end_s, keys)
    if reader.resolution != resolution:
        buckets = _regroup({"": buckets}, resolution)[""]
    return buckets


def _regroup(by_label: dict[str, dict[int, _Bucket]], size: str) -> dict[str, dict[int, _Bucket]]:
    """Merge the rollup buckets of each label into the coarser buckets of ``size``."""
    starts: dict[int, int] = {}
    regrouped: dict[str, dict[int, _Bucket]] = {}
    for label, buckets in by_label.items():
        merged: dict[int, _Bucket] = defaultdict(_Bucket)
        for start, bucket in buckets.items():
            coarse = starts.get(start)
            if coarse is None:
                moment = dt.datetime.fromtimestamp(start, tz=dt.timezone.utc)
                coarse = starts[start] = int(floor_bucket(moment, size).timestamp())
            merged[coarse].merge(bucket)
        regrouped[label] = merged
    return regrouped


def _group_total(kind: str, bucket: _Bucket, integer: bool = False) -> int | float:
    """Rank groups by their sum for counts and by their number of points otherwise."""
    if kind == "count":
        return _number(bucket.sum, integer)
    return bucket.count


def last_point(name: str | Monitor) -> dt.datetime | None:
    """Return when the latest point of the monitor ``name`` was added; None if it has none.

    Read from its rollups, like every chart, so it is there as long as the
    coarsest retained rollups are.
    """
    from django.db.models import Max

    from monitoring.models import Rollup

    handle = name if isinstance(name, Monitor) else monitor.get(name)
    if not handle.stored:
        from monitoring.tables import last_row

        return last_row(handle)
    rows = Rollup.objects.using(conf.DATABASE).filter(monitor=handle.name)
    last_at = rows.aggregate(last=Max("last_at"))["last"]
    if last_at is None:
        return None
    return dt.datetime.fromtimestamp(last_at / 1_000_000, tz=dt.timezone.utc)


def _window_reader(
    handle: Monitor, stat: str, start: dt.datetime, end: dt.datetime, filters: dict[str, Any] | None
) -> tuple[_Reader, int, int]:
    """Return a reader at the finest retained resolution, and the bucket starts to read."""
    if stat not in WINDOW_STATS[handle.kind]:
        raise ValueError(
            f"Monitor {handle.name!r} is a {handle.kind} monitor, which has no stat {stat!r}; "
            f"choose one of {', '.join(WINDOW_STATS[handle.kind])}."
        )
    start, end = to_utc(start), to_utc(end)
    if start >= end:
        raise ValueError(f"start ({start.isoformat()}) must be before end ({end.isoformat()}).")
    # Retention is judged from the range's end, so a window evaluated "as of" a past
    # moment reads the minute rollups it had then.
    resolution = choose_resolution(start, end, now=end, limit=SUMMARY_BUCKETS, sizes=RESOLUTIONS)
    reader = _Reader(handle, resolution, _clean_filters(handle, filters), None)
    # Buckets that start inside [start, end): the one in progress at ``end`` counts,
    # the one already under way at ``start`` does not.
    first = floor_bucket(start, resolution)
    if first < start:
        first = next_bucket(first, resolution)
    return reader, int(first.timestamp()), int(end.timestamp())


def window_stat(
    name: str | Monitor,
    stat: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    filters: dict[str, Any] | None = None,
) -> int | float | None:
    """Return one stat of the monitor ``name`` over every point in ``[start, end)``.

    ``stat`` is one of :data:`WINDOW_STATS` for the monitor's kind. The
    points are those of the rollup buckets that start in the range, read at
    the finest resolution still retained there (minutes for recent ranges),
    so the range's edges are exact to that resolution. An empty range gives
    0 for ``sum`` and ``count`` and None for every other stat. Raise
    NotRegistered for an unknown monitor and ValueError for a bad stat,
    range or filter.
    """
    handle = name if isinstance(name, Monitor) else monitor.get(name)
    _flush_own_points()
    reader, first_s, end_s = _window_reader(handle, stat, start, end, filters)
    total = _total(reader.read(first_s, end_s).get("", {}).values())
    return _window_stat(handle.kind, stat, total, handle.integer)


def window_values(
    name: str | Monitor,
    stat: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    filters: dict[str, Any] | None = None,
) -> list[tuple[dt.datetime, int | float | None]]:
    """Return ``(bucket start, stat)`` for each bucket of the range :func:`window_stat` reads.

    Buckets without points are left out.
    """
    handle = name if isinstance(name, Monitor) else monitor.get(name)
    _flush_own_points()
    reader, first_s, end_s = _window_reader(handle, stat, start, end, filters)
    buckets = reader.read(first_s, end_s).get("", {})
    integer = handle.integer
    return [
        (
            dt.datetime.fromtimestamp(bucket_start, tz=dt.timezone.utc),
            _window_stat(handle.kind, stat, buckets[bucket_start], integer),
        )
        for bucket_start in sorted(buckets)
    ]
