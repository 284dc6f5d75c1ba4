"""Time buckets: the one arithmetic that writing rollups and reading them share.

The writer floors each point into minute, hour and day buckets; the reader
lists the buckets of a chart. Both import these helpers from here, so the
write path never imports the read path and they meet only in the tables
and this module.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

from django.conf import settings
from django.utils import timezone

__all__ = [
    "RESOLUTIONS",
    "bucket_starts",
    "count_buckets",
    "floor_bucket",
    "next_bucket",
    "site_timezone",
    "to_utc",
]

#: Bucket widths. Minute and hour buckets are aligned on UTC; day buckets
#: start at local midnight in the site's time zone, so they last 23 or 25
#: hours across a daylight saving change.
RESOLUTIONS: dict[str, dt.timedelta] = {
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
}


def site_timezone() -> dt.tzinfo:
    """Return the zone day buckets follow: ``TIME_ZONE``.

    Not the zone a request may have activated: day rollups are summed once,
    when points are flushed, so every reader must share the writer's days.
    """
    if settings.USE_TZ:
        return timezone.get_default_timezone()
    return zoneinfo.ZoneInfo(settings.TIME_ZONE or "UTC")


def to_utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` in UTC; a naive value is read in the site's time zone.

    In UTC, because Python subtracts and compares datetimes that share a zone
    by their wall-clock times, which is wrong across daylight saving changes.
    """
    if timezone.is_naive(value):
        value = value.replace(tzinfo=site_timezone())
    return value.astimezone(dt.timezone.utc)


def floor_bucket(at: dt.datetime, resolution: str) -> dt.datetime:
    """Return the start of the bucket of ``resolution`` that holds ``at`` (aware, UTC or local)."""
    at = to_utc(at)
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
    end = to_utc(end)
    while current < end:
        starts.append(current)
        current = next_bucket(current, resolution)
    return starts


def count_buckets(start: dt.datetime, end: dt.datetime, resolution: str) -> int:
    """Return how many buckets cover ``[start, end)`` without listing them.

    Counted from the start of the bucket holding ``start``, as
    :func:`bucket_starts` lists them; a day counts as 24 hours, so across
    daylight saving changes the count can be off by one.
    """
    return math.ceil((to_utc(end) - floor_bucket(start, resolution)) / RESOLUTIONS[resolution])
