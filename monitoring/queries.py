"""Read a monitor's data as time buckets.

Views call :func:`daily_series`; nothing else in the app reads data points.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Avg, Count, Max, Min, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from monitoring.register import Monitor

#: What each stat a view can ask for means, as a database aggregate of ``value``.
AGGREGATES = {
    "sum": Sum,
    "avg": Avg,
    "min": Min,
    "max": Max,
    "count": Count,
}

#: What an empty bucket holds: counts of nothing are 0; other stats have no value.
EMPTY = {"sum": 0, "count": 0}


@dataclass(frozen=True)
class Bucket:
    """One point of a series: the bucket's start and the stat's value (None if empty)."""

    start: dt.datetime
    value: int | float | None


def site_timezone() -> dt.tzinfo:
    """Return the zone day buckets follow: the current time zone, else ``TIME_ZONE``."""
    if settings.USE_TZ:
        return timezone.get_current_timezone()
    return zoneinfo.ZoneInfo(settings.TIME_ZONE or "UTC")


def day_starts(days: int, *, today: dt.date | None = None) -> list[dt.datetime]:
    """Return the starts of the last ``days`` local days, today last, plus tomorrow's start."""
    tz = site_timezone()
    if today is None:
        today = timezone.localdate() if settings.USE_TZ else dt.date.today()
    first = today - dt.timedelta(days=days - 1)
    starts = []
    for offset in range(days + 1):
        midnight = dt.datetime.combine(first + dt.timedelta(days=offset), dt.time())
        starts.append(midnight.replace(tzinfo=tz) if settings.USE_TZ else midnight)
    return starts


def daily_series(handle: Monitor, stat: str, *, days: int) -> list[Bucket]:
    """Return one bucket per local day for the last ``days`` days, empty days filled."""
    if stat not in AGGREGATES:
        raise ValueError(f"Unknown stat {stat!r}; choose one of {', '.join(AGGREGATES)}.")
    starts = day_starts(days)
    tz = site_timezone()
    rows = (
        handle.model._default_manager.filter(created__gte=starts[0], created__lt=starts[-1])
        .annotate(bucket=TruncDay("created", tzinfo=tz if settings.USE_TZ else None))
        .values("bucket")
        .annotate(result=AGGREGATES[stat]("value"))
        .order_by("bucket")
    )
    by_day = {
        (timezone.localtime(row["bucket"], tz) if settings.USE_TZ else row["bucket"]).date(): row[
            "result"
        ]
        for row in rows
    }
    empty = EMPTY.get(stat)
    return [Bucket(start, by_day.get(start.date(), empty)) for start in starts[:-1]]
