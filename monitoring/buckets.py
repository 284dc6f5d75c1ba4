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
    "BUCKET_SIZES",
    "RESOLUTIONS",
    "bucket_starts",
    "count_buckets",
    "floor_bucket",
    "next_bucket",
    "site_timezone",
    "to_db",
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

#: The bucket sizes a chart can draw, each summed from the rollups of a resolution
#: above that it is a whole multiple of (no table of its own). 5 and 15 minutes are
#: aligned on UTC, like minutes (every zone's offset is a multiple of 15 minutes);
#: 3, 6 and 12 hours on the site's wall clock, from local midnight; a week starts on
#: Monday at local midnight.
BUCKET_SIZES: dict[str, tuple[dt.timedelta, str]] = {
    "minute": (dt.timedelta(minutes=1), "minute"),
    "5min": (dt.timedelta(minutes=5), "minute"),
    "15min": (dt.timedelta(minutes=15), "minute"),
    "hour": (dt.timedelta(hours=1), "hour"),
    "3h": (dt.timedelta(hours=3), "hour"),
    "6h": (dt.timedelta(hours=6), "hour"),
    "12h": (dt.timedelta(hours=12), "hour"),
    "day": (dt.timedelta(days=1), "day"),
    "week": (dt.timedelta(weeks=1), "day"),
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


def to_db(value: dt.datetime) -> dt.datetime:
    """Return a moment as a ``DateTimeField`` stores it (naive in TIME_ZONE without USE_TZ)."""
    value = to_utc(value)
    return value if settings.USE_TZ else timezone.make_naive(value, site_timezone())


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
    if resolution in ("5min", "15min"):
        step = int(BUCKET_SIZES[resolution][0].total_seconds() // 60)
        return utc.replace(minute=utc.minute - utc.minute % step, second=0, microsecond=0)
    if resolution in ("3h", "6h", "12h"):
        step = int(BUCKET_SIZES[resolution][0].total_seconds() // 3600)
        tz = site_timezone()
        local = at.astimezone(tz)
        return dt.datetime.combine(local.date(), dt.time(local.hour - local.hour % step), tzinfo=tz)
    if resolution == "week":
        tz = site_timezone()
        local = at.astimezone(tz).date()
        return dt.datetime.combine(local - dt.timedelta(days=local.weekday()), dt.time(), tzinfo=tz)
    raise ValueError(f"Unknown resolution {resolution!r}; choose one of {', '.join(BUCKET_SIZES)}.")


def next_bucket(start: dt.datetime, resolution: str) -> dt.datetime:
    """Return the start of the bucket after the one starting at ``start``."""
    if resolution in ("day", "week"):
        tz = site_timezone()
        local = start.astimezone(tz)
        days = 7 if resolution == "week" else 1
        return dt.datetime.combine(local.date() + dt.timedelta(days=days), dt.time(), tzinfo=tz)
    if resolution in ("3h", "6h", "12h"):
        # Wall-clock hours: across a daylight saving change a bucket lasts an hour more or less.
        tz = site_timezone()
        local = start.astimezone(tz).replace(tzinfo=None) + BUCKET_SIZES[resolution][0]
        return floor_bucket(local.replace(tzinfo=tz), resolution)
    return start + BUCKET_SIZES[resolution][0]


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
    width = BUCKET_SIZES[resolution][0]
    return math.ceil((to_utc(end) - floor_bucket(start, resolution)) / width)
