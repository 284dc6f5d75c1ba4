"""The chart data of a monitor: what ``?format=json`` answers and every card carries.

Stored values can be any finite float, and sums or averages of them can
overflow to infinity. JSON has no infinity, so a value that is not a finite
number is sent as ``null`` and the data says so with ``"overflow": true``;
the card shows the headline as "too large".
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from monitoring import alerts, queries
from monitoring.annotations import between as annotations_between
from monitoring.buckets import site_timezone
from monitoring.register import Monitor

__all__ = [
    "DEFAULT_STATS",
    "GROUP_STATS",
    "STAT_LABELS",
    "chart_data",
    "finite",
    "script_messages",
]

#: The stat each kind shows in ``points`` when a view does not set one.
DEFAULT_STATS = {"count": "sum", "value": "avg", "duration": "count"}

#: The stat each kind draws per group when its series is split by a dimension.
GROUP_STATS = {"count": "sum", "value": "avg", "duration": "p95"}

#: The one name of each stat, for legends and tables; sent with the data as ``labels``,
#: with the name of the time axis under ``time`` and that of the "other" group under ``other``.
STAT_LABELS = {
    "sum": _("Total"),
    "avg": _("Average"),
    "min": _("Min"),
    "max": _("Max"),
    "last": _("Last"),
    "count": _("Count"),
    "p50": _("p50"),
    "p95": _("p95"),
    "p99": _("p99"),
}


class _Overflow:
    """Remember whether any value had to be dropped for not being a finite number."""

    def __init__(self) -> None:
        self.seen = False

    def number(self, value: int | float | None) -> int | float | None:
        if isinstance(value, float) and not math.isfinite(value):
            self.seen = True
            return None
        return value

    def numbers(self, values: list[int | float | None]) -> list[int | float | None]:
        return [self.number(value) for value in values]


def finite(value: int | float | None) -> int | float | None:
    """Return ``value``, or None when it is infinite or not a number."""
    return _Overflow().number(value)


def change_between(current: int | float | None, previous: int | float | None) -> float | None:
    """Return the relative change from ``previous`` to ``current``, None if it has none."""
    if current is None or previous in (None, 0):
        return None
    try:
        change = (current - previous) / abs(previous)
    except OverflowError:  # integers too large for a float
        return None
    # Times 100 too, so that a percentage of it is finite as well.
    return change if math.isfinite(change * 100) else None


def chart_data(handle: Monitor, series: queries.Series, query: Any, stat: str) -> dict[str, Any]:
    """Return the JSON-ready chart data; see docs/dashboard.rst for its shape."""
    tz = site_timezone()
    overflow = _Overflow()
    values = {name: overflow.numbers(column) for name, column in series.values.items()}
    current = overflow.number(series.summary)
    previous = overflow.number(series.previous_summary)
    groups = [
        {
            "label": group.label,
            "other": group.other,
            "total": overflow.number(group.total),
            "values": {name: overflow.numbers(column) for name, column in group.values.items()},
        }
        for group in series.groups
    ]
    return {
        "name": handle.name,
        "title": str(handle.title),
        "kind": handle.kind,
        "unit": handle.unit,
        "description": handle.description,
        "category": handle.category,
        "stat": stat,
        "stats": list(series.values),
        "labels": {"time": str(_("Time")), "other": str(_("other"))}
        | {name: str(STAT_LABELS[name]) for name in series.values},
        "group_stat": GROUP_STATS[handle.kind],
        "range": query.range,
        "start": series.start.astimezone(tz).isoformat(),
        "end": series.end.astimezone(tz).isoformat(),
        "resolution": series.resolution,
        "timezone": str(tz),
        "filters": {name: [str(v) for v in vals] for name, vals in query.filters.items()},
        "split_by": series.split_by,
        "summary": {
            "stat": series.summary_stat,
            "value": current,
            "previous": previous,
            "change": change_between(current, previous),
        },
        "timestamps": [int(bucket.timestamp()) for bucket in series.buckets],
        "points": [
            {"start": bucket.astimezone(tz).isoformat(), "value": value}
            for bucket, value in zip(series.buckets, values[stat], strict=True)
        ],
        "values": values,
        "groups": groups,
        "overflow": overflow.seen,
        "annotations": annotations_between(series.start, series.end),
        "alerts": alerts.for_monitor(handle.name),
    }


def script_messages() -> dict[str, str]:
    """Return the messages the dashboard's scripts show, in the active language."""
    return {
        "failed": gettext("This chart could not be loaded."),
        "retry": gettext("Try again"),
        "timeout": gettext("The server took too long to answer."),
        "unreachable": gettext("The server could not be reached."),
        "session": gettext("Your session may have ended; reload the page to log in again."),
        # %(status)s is filled in by the script.
        "http": gettext("The server answered with an error (HTTP %(status)s)."),
    }
