"""Read a monitor's data as a series of time buckets.

:func:`get_series` is the one public entry point; views and the handle's
``series()`` call it, and nothing else in the app reads data points.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from monitoring.register import Monitor, monitor

__all__ = [
    "MAX_POINTS",
    "RESOLUTIONS",
    "STATS",
    "Group",
    "Series",
    "bucket_starts",
    "choose_resolution",
    "get_series",
    "site_timezone",
]

#: Bucket widths. Minute and hour buckets are aligned on UTC; day buckets
#: start at local midnight in the site's time zone, so they last 23 or 25
#: hours across a daylight saving change.
RESOLUTIONS: dict[str, dt.timedelta] = {
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
}

#: ``resolution="auto"`` picks the finest resolution that keeps a series at
#: most this long.
MAX_POINTS = 1500

#: The stats of each kind, in the order charts draw them.
STATS: dict[str, tuple[str, ...]] = {
    "count": ("sum",),
    "value": ("avg", "min", "max", "last"),
    "duration": ("count", "p50", "p95", "p99", "max"),
}

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


@dataclass(frozen=True)
class Series:
    """A monitor's data over a range: one value per bucket for each stat of its kind.

    ``values[stat][i]`` belongs to the bucket starting at ``buckets[i]``.
    Empty buckets hold 0 for ``sum`` and ``count`` and None for every other
    stat. ``summary`` is the headline number (``summary_stat``: the total of
    a count, the last reading of a gauge, the p95 of a duration) and
    ``previous_summary`` the same figure for the period of equal length just
    before ``start``.
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


def site_timezone() -> dt.tzinfo:
    """Return the zone day buckets follow: the current time zone, else ``TIME_ZONE``."""
    if settings.USE_TZ:
        return timezone.get_current_timezone()
    return zoneinfo.ZoneInfo(settings.TIME_ZONE or "UTC")


def _aware(value: dt.datetime) -> dt.datetime:
    """Return ``value`` in UTC; a naive value is read in the site's time zone.

    In UTC, because Python subtracts and compares datetimes that share a zone
    by their wall-clock times, which is wrong across daylight saving changes.
    """
    if timezone.is_naive(value):
        value = value.replace(tzinfo=site_timezone())
    return value.astimezone(dt.timezone.utc)


def floor_bucket(at: dt.datetime, resolution: str) -> dt.datetime:
    """Return the start of the bucket of ``resolution`` that holds ``at`` (aware, UTC or local)."""
    at = _aware(at)
    if resolution == "day":
        tz = site_timezone()
        local = at.astimezone(tz)
        return dt.datetime.combine(local.date(), dt.time(), tzinfo=tz)
    utc = at.astimezone(dt.timezone.utc)
    if resolution == "hour":
        return utc.replace(minute=0, second=0, microsecond=0)
    if resolution == "minute":
        return utc.replace(second=0, microsecond=0)
    raise ValueError(f"Unknown resolution {resolution!r}; choose one of {', '.join(RESOLUTIONS)}.")


def next_bucket(start: dt.datetime, resolution: str) -> dt.datetime:
    """Return the start of the bucket after the one starting at ``start``."""
    if resolution == "day":
        tz = site_timezone()
        local = start.astimezone(tz)
        return dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start + RESOLUTIONS[resolution]


def bucket_starts(start: dt.datetime, end: dt.datetime, resolution: str) -> list[dt.datetime]:
    """Return the starts of the buckets that overlap ``[start, end)``, the first one floored."""
    starts = []
    current = floor_bucket(start, resolution)
    end = _aware(end)
    while current < end:
        starts.append(current)
        current = next_bucket(current, resolution)
    return starts


def choose_resolution(start: dt.datetime, end: dt.datetime) -> str:
    """Return the finest resolution that keeps ``[start, end)`` at most MAX_POINTS buckets."""
    span = _aware(end) - _aware(start)
    for name, width in RESOLUTIONS.items():
        if span / width <= MAX_POINTS:
            return name
    return "day"


def _percentile(ordered: list[float], q: float) -> float | None:
    """Return the nearest-rank percentile ``q`` (0-100) of an ordered list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _aggregate(kind: str, points: list[tuple[dt.datetime, float]]) -> dict[str, Any]:
    """Return every stat of ``kind`` over ``points`` (time, value), empty stats filled."""
    if kind == "count":
        return {"sum": sum(v for _, v in points)}
    if not points:
        return {stat: (0 if stat == "count" else None) for stat in STATS[kind]}
    values = [v for _, v in points]
    if kind == "value":
        return {
            "avg": sum(values) / len(values),
            "min": min(values),
            "max": max(values),
            "last": max(points, key=lambda p: p[0])[1],
        }
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": _percentile(ordered, 50),
        "p95": _percentile(ordered, 95),
        "p99": _percentile(ordered, 99),
        "max": ordered[-1],
    }


def _summary(kind: str, points: list[tuple[dt.datetime, float]]) -> int | float | None:
    if kind == "count":
        return sum(v for _, v in points)
    if not points:
        return None
    if kind == "value":
        return max(points, key=lambda p: p[0])[1]
    return _percentile(sorted(v for _, v in points), 95)


def _clean_filters(handle: Monitor, filters: dict[str, Any] | None) -> dict[str, list[Any]]:
    dimensions = handle.model.dimension_names()
    cleaned = {}
    for name, wanted in (filters or {}).items():
        if name not in dimensions:
            valid = ", ".join(repr(d) for d in dimensions) or "none"
            raise ValueError(
                f"Monitor {handle.name!r} has no dimension {name!r}; valid dimensions: {valid}."
            )
        if isinstance(wanted, (list, tuple, set, frozenset)):
            cleaned[name] = list(wanted)
        else:
            cleaned[name] = [wanted]
    return cleaned


def _read_points(
    handle: Monitor,
    start: dt.datetime,
    end: dt.datetime,
    filters: dict[str, list[Any]],
    split_by: str | None,
) -> Iterable[tuple[dt.datetime, float, Any]]:
    """Yield (created, value, split value) for the raw rows in ``[start, end)``."""
    queryset = handle.model._default_manager.filter(created__gte=start, created__lt=end)
    for name, wanted in filters.items():
        queryset = queryset.filter(**{f"{name}__in": wanted})
    fields = ["created", "value"] + ([split_by] if split_by else [])
    for row in queryset.values_list(*fields).iterator(chunk_size=5000):
        created = _aware(row[0])
        yield created, row[1], (row[2] if split_by else None)


def _bucketize(
    kind: str,
    starts: list[dt.datetime],
    points: list[tuple[dt.datetime, float]],
    resolution: str,
) -> dict[str, list[Any]]:
    index = {start: i for i, start in enumerate(starts)}
    per_bucket: list[list[tuple[dt.datetime, float]]] = [[] for _ in starts]
    for created, value in points:
        i = index.get(floor_bucket(created, resolution))
        if i is not None:
            per_bucket[i].append((created, value))
    values: dict[str, list[Any]] = {stat: [] for stat in STATS[kind]}
    for bucket_points in per_bucket:
        for stat, result in _aggregate(kind, bucket_points).items():
            values[stat].append(result)
    return values


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
    ``resolution`` is ``"minute"``, ``"hour"``, ``"day"`` or ``"auto"`` (the
    finest that keeps the series at most :data:`MAX_POINTS` buckets long).
    ``filters`` maps dimension names to a value or a list of values.
    ``split_by`` names a dimension: the series then also has one
    :class:`Group` per value, the ``top`` values by total first and the rest
    summed into ``"other"``. Raise NotRegistered for an unknown monitor and
    ValueError for a bad range, resolution, filter or dimension.
    """
    handle = name if isinstance(name, Monitor) else monitor.get(name)
    end = _aware(end) if end is not None else timezone.now()
    start = _aware(start) if start is not None else end - dt.timedelta(days=1)
    if start >= end:
        raise ValueError(f"start ({start.isoformat()}) must be before end ({end.isoformat()}).")
    if resolution == "auto":
        resolution = choose_resolution(start, end)
    elif resolution not in RESOLUTIONS:
        raise ValueError(
            f"Unknown resolution {resolution!r}; choose auto or one of {', '.join(RESOLUTIONS)}."
        )
    cleaned = _clean_filters(handle, filters)
    if split_by is not None and split_by not in handle.model.dimension_names():
        valid = ", ".join(repr(d) for d in handle.model.dimension_names()) or "none"
        raise ValueError(
            f"Monitor {handle.name!r} has no dimension {split_by!r} to split by; "
            f"valid dimensions: {valid}."
        )
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top must be a whole number of at least 1, got {top!r}.")

    starts = bucket_starts(start, end, resolution)
    if len(starts) > MAX_POINTS * 10:
        raise ValueError(
            f"{len(starts)} {resolution} buckets is too many; choose a coarser resolution."
        )
    range_start, range_end = starts[0], next_bucket(starts[-1], resolution)
    kind = handle.kind

    rows = list(_read_points(handle, range_start, range_end, cleaned, split_by))
    points = [(created, value) for created, value, _ in rows]
    values = _bucketize(kind, starts, points, resolution)

    groups: list[Group] = []
    if split_by is not None:
        by_label: dict[str, list[tuple[dt.datetime, float]]] = defaultdict(list)
        for created, value, label in rows:
            by_label[str(label)].append((created, value))
        ranked = sorted(by_label, key=lambda label: (-_group_total(kind, by_label[label]), label))
        for label in ranked[:top]:
            groups.append(
                Group(
                    label,
                    _bucketize(kind, starts, by_label[label], resolution),
                    _group_total(kind, by_label[label]),
                )
            )
        rest = [point for label in ranked[top:] for point in by_label[label]]
        if rest:
            groups.append(
                Group(OTHER, _bucketize(kind, starts, rest, resolution), _group_total(kind, rest))
            )

    # The summary covers exactly [start, end), the previous period the same span before it.
    span = end - start
    in_range = [(c, v) for c, v in points if start <= c < end]
    previous = [(c, v) for c, v, _ in _read_points(handle, start - span, start, cleaned, None)]
    return Series(
        name=handle.name,
        kind=kind,
        resolution=resolution,
        start=range_start,
        end=range_end,
        buckets=starts,
        values=values,
        summary=_summary(kind, in_range),
        previous_summary=_summary(kind, previous),
        summary_stat=SUMMARY_STATS[kind],
        groups=groups,
        split_by=split_by,
    )


def _group_total(kind: str, points: list[tuple[dt.datetime, float]]) -> int | float:
    """Rank groups by their sum for counts and by their number of points otherwise."""
    if kind == "count":
        return sum(v for _, v in points)
    return len(points)
