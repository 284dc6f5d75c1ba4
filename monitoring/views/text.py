"""Numbers, times and sentences for people, in the active language.

Times follow one rule everywhere (axis, legend, table and these sentences):
the page's language, a 24-hour clock where that language uses one, and
always the site's ``TIME_ZONE``. The scripts format them with ``Intl`` from
``<html lang>``; here the same rule is applied from Django's formats, and
each time is also given as ISO 8601 in a ``<time>`` element.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.utils import dateformat, formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from monitoring import queries
from monitoring.buckets import site_timezone
from monitoring.register import Monitor

__all__ = ["change_text", "format_datetime", "format_number", "summary_html", "time_html"]


def format_number(value: int | float | None) -> str:
    """Return ``value`` for people: grouped digits, a few decimals, an en dash for None."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return _("too large")
    if isinstance(value, int) or abs(value) >= 100:
        decimals = 0
    elif abs(value) >= 10:
        decimals = 1
    else:
        decimals = 2
    text = formats.number_format(round(value, decimals), decimals, force_grouping=True)
    if decimals:
        separator = formats.get_format("DECIMAL_SEPARATOR")
        text = text.rstrip("0").rstrip(separator) if separator in text else text
    return text


def uses_24_hour_clock() -> bool:
    """Return True if the active language writes times on a 24-hour clock."""
    return any(code in formats.get_format("TIME_FORMAT") for code in "HG")


def format_datetime(value: dt.datetime, *, with_time: bool = True) -> str:
    """Return ``value`` in the site's zone, as the active language writes dates and times."""
    local = value.astimezone(site_timezone())
    date = formats.date_format(local, "DATE_FORMAT")
    if not with_time:
        return date
    clock = "H:i" if uses_24_hour_clock() else "g:i A"
    return f"{date}, {dateformat.format(local, clock)}"


def time_html(value: dt.datetime, *, with_time: bool = True) -> SafeString:
    """Return a ``<time>`` element: the text for people, ISO 8601 for machines and scripts."""
    local = value.astimezone(site_timezone())
    return format_html(
        '<time datetime="{}"{}>{}</time>',
        local.isoformat(),
        "" if with_time else SafeString(' data-date-only=""'),
        format_datetime(local, with_time=with_time),
    )


def change_text(change: float | None) -> tuple[str, str]:
    """Return the change badge's text and direction (up, down, flat or none)."""
    if change is None:
        return "", "none"
    if round(change * 100) == 0:
        return _("same as previous period"), "flat"
    percent = format_number(round(abs(change) * 100))
    if change > 0:
        return _("+%(percent)s%% vs previous period") % {"percent": percent}, "up"
    return _("−%(percent)s%% vs previous period") % {"percent": percent}, "down"


def _html(template: str, **values: Any) -> SafeString:
    """Return the translated ``template`` with ``values`` put in, everything escaped but them."""
    escaped = {name: conditional_escape(value) for name, value in values.items()}
    return mark_safe(conditional_escape(template) % escaped)  # noqa: S308 - all parts escaped


def range_phrase(range_name: str) -> str:
    """Return "over the last 7 days" and the like, in the active language."""
    return {
        "1h": _("over the last hour"),
        "6h": _("over the last 6 hours"),
        "24h": _("over the last 24 hours"),
        "7d": _("over the last 7 days"),
        "30d": _("over the last 30 days"),
        "90d": _("over the last 90 days"),
        "365d": _("over the last 365 days"),
    }[range_name]


def summary_html(
    handle: Monitor, series: queries.Series, data: dict[str, Any], query: Any
) -> SafeString:
    """Return one or two sentences that say what the chart shows, for screen readers."""
    unit = f" {handle.unit}" if handle.unit else ""
    with_time = series.resolution not in ("day", "week")
    summary = data["summary"]
    value = format_number(summary["value"]) + unit
    if query.range:
        period = range_phrase(query.range)
    else:
        period = _html(
            _("from %(start)s to %(end)s"),
            start=time_html(series.start, with_time=with_time),
            end=time_html(series.end, with_time=with_time),
        )
    if handle.kind == "count":
        head = _("%(title)s: %(value)s in total %(period)s")
    elif handle.kind == "value":
        head = _("%(title)s: latest reading %(value)s %(period)s")
    else:
        head = _("%(title)s: 95th percentile %(value)s %(period)s")
    parts = [_html(head, title=handle.title, value=value, period=period)]
    change = summary["change"]
    if change is None:
        parts.append(".")
    elif round(change * 100) == 0:
        parts.append(conditional_escape(_(", the same as the period before.")))
    else:
        percent = format_number(round(abs(change) * 100))
        if change > 0:
            parts.append(_html(_(", up %(percent)s%% on the period before."), percent=percent))
        else:
            parts.append(_html(_(", down %(percent)s%% on the period before."), percent=percent))
    peak_stat = {"count": "sum", "value": "max", "duration": "p95"}[handle.kind]
    peaks = [
        (v, bucket)
        for v, bucket in zip(data["values"][peak_stat], series.buckets, strict=True)
        if v is not None
    ]
    if peaks and not data_is_empty(handle.kind, data):
        peak, at = max(peaks, key=lambda p: p[0])
        parts.append(" ")
        parts.append(
            _html(
                _("Highest %(resolution)s: %(value)s, starting %(start)s."),
                resolution=resolution_name(series.resolution),
                value=format_number(peak) + unit,
                start=time_html(at, with_time=with_time),
            )
        )
    if series.groups:
        parts.append(" ")
        parts.append(
            _html(
                _("Split by %(dimension)s: %(labels)s."),
                dimension=series.split_by,
                labels=", ".join(group.label for group in series.groups),
            )
        )
    return mark_safe("".join(conditional_escape(part) for part in parts))  # noqa: S308


def resolution_name(resolution: str) -> str:
    """Return a bucket size's name in the active language."""
    return {
        "minute": _("minute"),
        "5min": _("5 minutes"),
        "15min": _("15 minutes"),
        "hour": _("hour"),
        "3h": _("3 hours"),
        "6h": _("6 hours"),
        "12h": _("12 hours"),
        "day": _("day"),
        "week": _("week"),
    }.get(resolution, resolution)


def data_is_empty(kind: str, data: dict[str, Any]) -> bool:
    """Return True if no data point falls into the chart's range.

    A gauge at 0 is data: a gauge's empty bucket is None, not 0.
    """
    if kind == "count":
        return not any(data["values"]["sum"])
    if kind == "value":
        return all(value is None for value in data["values"]["avg"])
    return not any(data["values"]["count"])
