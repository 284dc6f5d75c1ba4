"""Views: the dashboard page and one view per kind of monitor.

Register a monitor with the view for its kind::

    monitor.register("user_count", IntegerCountView.as_view(model=MonitorUserCount))

At ``/monitoring/<name>/`` the view answers with the monitor's dashboard card
(an HTML fragment), ``?format=json`` with the chart data and ``?format=csv``
with the same data as a download. Subclass :class:`MonitorView` to change any
of them; every view here is for staff only (or for ``MONITORING_PERMISSION``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from monitoring import queries
from monitoring.buckets import to_utc
from monitoring.conf import conf
from monitoring.exceptions import NotRegistered
from monitoring.models import MonitorBase
from monitoring.register import Monitor, monitor

__all__ = [
    "FORMATS",
    "RANGES",
    "REFRESH_INTERVALS",
    "RESERVED_PARAMETERS",
    "BadParameter",
    "DashboardView",
    "DurationView",
    "IntegerCountView",
    "MonitorView",
    "Query",
    "StaffRequiredMixin",
    "ValueView",
    "monitor_detail",
]


#: The stat each kind shows in ``points`` when a view does not set one.
DEFAULT_STATS = {"count": "sum", "value": "avg", "duration": "count"}

#: The ranges ``?range=`` accepts, each ending now, with their labels.
RANGES: dict[str, tuple[dt.timedelta, str]] = {
    "1h": (dt.timedelta(hours=1), "Last hour"),
    "6h": (dt.timedelta(hours=6), "Last 6 hours"),
    "24h": (dt.timedelta(hours=24), "Last 24 hours"),
    "7d": (dt.timedelta(days=7), "Last 7 days"),
    "30d": (dt.timedelta(days=30), "Last 30 days"),
    "90d": (dt.timedelta(days=90), "Last 90 days"),
    "365d": (dt.timedelta(days=365), "Last 365 days"),
}

#: What ``?format=`` accepts; the card is the default.
FORMATS = ("html", "json", "csv")

#: Auto-refresh choices of the dashboard, in seconds (0 is off), with their labels.
REFRESH_INTERVALS: dict[int, str] = {0: "Off", 30: "30 s", 60: "1 min", 300: "5 min"}

#: Query parameters with a meaning of their own; every other one filters a dimension.
RESERVED_PARAMETERS = ("format", "range", "start", "end", "resolution", "split", "top")

#: The most groups ``?top=`` may ask for.
MAX_TOP = 20

#: The stats each kind draws when its series is split by a dimension.
GROUP_STATS = {"count": "sum", "value": "avg", "duration": "p95"}


def has_access(request: HttpRequest) -> bool:
    """Return True if the request's user may see monitoring data.

    Active staff, or, when ``MONITORING_PERMISSION`` names a permission,
    active users who have it.
    """
    user = request.user
    if not user.is_active:
        return False
    if conf.PERMISSION:
        return user.has_perm(conf.PERMISSION)
    return bool(user.is_staff)


def deny(request: HttpRequest) -> HttpResponse:
    """Send anonymous users to the login page; refuse everybody else with 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied("Monitoring is for active staff users only.")


class StaffRequiredMixin:
    """Let only users who may see monitoring through (see :func:`has_access`)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_access(request):
            return deny(request)
        return super().dispatch(request, *args, **kwargs)


class BadParameter(Exception):
    """A query parameter has a value the view cannot use; answered with a 400."""

    def __init__(self, parameter: str, message: str, allowed: list[str] | None = None):
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.allowed = allowed or []

    def as_json(self) -> dict[str, Any]:
        return {"error": self.message, "parameter": self.parameter, "allowed": self.allowed}


@dataclass
class Query:
    """The cleaned query parameters of one request for a monitor's data."""

    start: dt.datetime
    end: dt.datetime
    resolution: str
    range: str | None = None
    format: str = "html"
    filters: dict[str, list[Any]] = field(default_factory=dict)
    split_by: str | None = None
    top: int = 5

    def series_kwargs(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "resolution": self.resolution,
            "filters": self.filters or None,
            "split_by": self.split_by,
            "top": self.top,
        }


MIN_YEAR, MAX_YEAR = 1900, 9000

ISO_HINT = ["an ISO 8601 date or date-time, e.g. 2026-11-29 or 2026-11-29T14:30:00+01:00"]


def parse_datetime_parameter(name: str, raw: str) -> dt.datetime:
    """Return the aware datetime of an ISO 8601 ``raw`` value; naive means the site's zone."""
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(
            name, f"{name}={raw!r} is not an ISO 8601 date-time.", ISO_HINT
        ) from None
    # Far enough from datetime's limits that the period before and bucket edges still fit.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise BadParameter(
            name, f"{name}={raw!r} is not between the years {MIN_YEAR} and {MAX_YEAR}.", ISO_HINT
        )
    if timezone.is_naive(value):
        value = value.replace(tzinfo=queries.site_timezone())
    return value


def format_number(value: int | float | None) -> str:
    """Return ``value`` for people: thousands separated, a few decimals, an en dash for None."""
    if value is None:
        return "–"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


@method_decorator(never_cache, name="dispatch")
class MonitorView(StaffRequiredMixin, View):
    """Answer with a monitor's card, its data as JSON, or its data as CSV.

    Subclasses set :attr:`kinds` (which models they can show) and :attr:`stat`
    (the stat of ``points``), and may override :meth:`get_query`,
    :meth:`get_series`, :meth:`get_data`, :meth:`get_card_context` or
    :meth:`get_template_names`.
    """

    #: The monitor model; set it with ``as_view(model=...)``.
    model: type[MonitorBase] | None = None
    #: The kinds of model this view can show; empty means any.
    kinds: ClassVar[tuple[str, ...]] = ()
    #: The stat of ``points`` (see ``monitoring.queries.STATS``); None picks the
    #: kind's default: sum for counts, avg for gauges, count for durations.
    stat: str | None = None
    #: The card template; None means ``monitoring/cards/<kind>.html``.
    template_name: str | None = None
    http_method_names: ClassVar[list[str]] = ["get", "head", "options"]

    def get_monitor(self) -> Monitor:
        """Return the registered monitor this request is about."""
        name = self.kwargs.get("name")
        if name is not None:
            try:
                return monitor.get(name)
            except NotRegistered as exc:
                raise Http404(str(exc)) from None
        handle = monitor.get_for_model(self.model) if self.model else None
        if handle is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} has no registered monitor: register it with "
                f"monitor.register(name, {type(self).__name__}.as_view(model=...))."
            )
        return handle

    def get_stat(self, handle: Monitor) -> str:
        """Return the stat of ``points`` for ``handle``."""
        stat = self.stat or DEFAULT_STATS[handle.kind]
        if stat not in queries.STATS[handle.kind]:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.stat is {stat!r}, which a {handle.kind} monitor "
                f"does not have; choose one of {', '.join(queries.STATS[handle.kind])}."
            )
        return stat

    # -- parameters ----------------------------------------------------------

    def get_query(self, handle: Monitor) -> Query:
        """Return the cleaned query parameters; raise BadParameter for a bad one."""
        params = self.request.GET
        dimensions = handle.model.dimension_names()
        for name in params:
            if name not in RESERVED_PARAMETERS and name not in dimensions:
                raise BadParameter(
                    name,
                    f"Unknown parameter {name!r} for the monitor {handle.name!r}.",
                    [*RESERVED_PARAMETERS, *dimensions],
                )
        fmt = params.get("format", "html")
        if fmt not in FORMATS:
            raise BadParameter("format", f"Unknown format {fmt!r}.", list(FORMATS))

        range_name = params.get("range") or None
        if range_name is not None and range_name not in RANGES:
            raise BadParameter("range", f"Unknown range {range_name!r}.", list(RANGES))
        if range_name and params.get("start"):
            raise BadParameter("start", "Give either range or start, not both.", ISO_HINT)
        if params.get("end") and not (range_name or params.get("start")):
            raise BadParameter("end", "end needs start or range to go with it.", ISO_HINT)

        resolution = params.get("resolution") or None
        allowed_resolutions = ["auto", *queries.RESOLUTIONS]
        if resolution is not None and resolution not in allowed_resolutions:
            raise BadParameter(
                "resolution", f"Unknown resolution {resolution!r}.", allowed_resolutions
            )

        if range_name or params.get("start"):
            start = None if range_name else parse_datetime_parameter("start", params["start"])
            end = parse_datetime_parameter("end", params["end"]) if params.get("end") else None
            # now() is naive with USE_TZ = False; start and end may be aware.
            end = end or to_utc(timezone.now())
            if start is None:
                start = end - RANGES[range_name][0]
            if start >= end:
                raise BadParameter(
                    "end",
                    f"end ({end.isoformat()}) must be after start ({start.isoformat()}).",
                    ISO_HINT,
                )
            resolution = resolution or "auto"
        else:
            # No range asked for: the last MONITORING_DEFAULT_DAYS calendar days, by day,
            # of TIME_ZONE, whose days the rollups sum; not of a zone the request activated.
            tz = queries.site_timezone()
            today = to_utc(timezone.now()).astimezone(tz).date()
            start = dt.datetime.combine(
                today - dt.timedelta(days=conf.DEFAULT_DAYS - 1), dt.time(), tzinfo=tz
            )
            end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=tz)
            resolution = resolution or "day"

        effective = queries.choose_resolution(start, end) if resolution == "auto" else resolution
        buckets = queries.count_buckets(start, end, effective)
        if buckets > queries.MAX_BUCKETS:
            if resolution == "auto":
                raise BadParameter(
                    "start",
                    f"From start to end is {(end - start).days:,} days; a chart can show at most "
                    f"{queries.MAX_BUCKETS:,} days.",
                    ISO_HINT,
                )
            fitting = ["auto"] + [
                name
                for name in queries.RESOLUTIONS
                if queries.count_buckets(start, end, name) <= queries.MAX_BUCKETS
            ]
            raise BadParameter(
                "resolution",
                f"{resolution} buckets over this range would be {int(buckets):,} points; "
                f"choose a coarser resolution.",
                fitting,
            )

        filters = {}
        for field_ in handle.model.dimension_fields():
            if field_.name in params:
                filters[field_.name] = [
                    self.clean_dimension_value(field_, raw) for raw in params.getlist(field_.name)
                ]

        split = params.get("split")
        if split is None:
            split_by = dimensions[0] if dimensions else None
        elif split in ("", "none"):
            split_by = None
        elif split in dimensions:
            split_by = split
        else:
            raise BadParameter(
                "split",
                f"The monitor {handle.name!r} has no dimension {split!r}.",
                ["none", *dimensions],
            )

        top_raw = params.get("top", "5")
        if not re.fullmatch(r"[0-9]{1,3}", top_raw) or not 1 <= int(top_raw) <= MAX_TOP:
            raise BadParameter(
                "top",
                f"top must be a whole number from 1 to {MAX_TOP}, got {top_raw!r}.",
                [str(n) for n in range(1, MAX_TOP + 1)],
            )
        return Query(
            start=start,
            end=end,
            resolution=resolution,
            range=range_name,
            format=fmt,
            filters=filters,
            split_by=split_by,
            top=int(top_raw),
        )

    def clean_dimension_value(self, model_field: Any, raw: str) -> Any:
        """Return the filter value ``raw`` as the dimension's field stores it."""
        choices = [str(value) for value, _ in model_field.flatchoices]
        if choices and raw not in choices:
            raise BadParameter(
                model_field.name, f"{raw!r} is not a value of {model_field.name}.", choices
            )
        # NUL never matches (and PostgreSQL refuses it); clean() also checks integer ranges.
        try:
            if "\x00" in raw:
                raise ValidationError("NUL character")
            return model_field.clean(raw, None)
        except ValidationError:
            raise BadParameter(
                model_field.name,
                f"{raw!r} is not a valid {model_field.name}.",
                [f"a value of {type(model_field).__name__}"],
            ) from None

    # -- data ----------------------------------------------------------------

    def get_series(self, handle: Monitor, query: Query) -> queries.Series:
        """Return the series the query asks for."""
        return queries.get_series(handle, **query.series_kwargs())

    def get_data(self, handle: Monitor, series: queries.Series, query: Query) -> dict[str, Any]:
        """Return the JSON-ready chart data; see docs/dashboard.rst for its shape."""
        stat = self.get_stat(handle)
        tz = queries.site_timezone()
        previous, current = series.previous_summary, series.summary
        change = None
        if current is not None and previous not in (None, 0):
            change = (current - previous) / abs(previous)
        return {
            "name": handle.name,
            "title": handle.title,
            "kind": handle.kind,
            "unit": handle.unit,
            "description": handle.description,
            "category": handle.category,
            "stat": stat,
            "stats": list(series.values),
            "range": query.range,
            "start": series.start.astimezone(tz).isoformat(),
            "end": series.end.astimezone(tz).isoformat(),
            "resolution": series.resolution,
            "timezone": str(tz),
            "filters": {name: [str(v) for v in values] for name, values in query.filters.items()},
            "split_by": series.split_by,
            "summary": {
                "stat": series.summary_stat,
                "value": current,
                "previous": previous,
                "change": change,
            },
            "timestamps": [int(bucket.timestamp()) for bucket in series.buckets],
            "points": [
                {"start": bucket.astimezone(tz).isoformat(), "value": value}
                for bucket, value in zip(series.buckets, series.values[stat], strict=True)
            ],
            "values": series.values,
            "groups": [
                {"label": group.label, "total": group.total, "values": group.values}
                for group in series.groups
            ],
        }

    def is_empty(self, handle: Monitor, series: queries.Series) -> bool:
        """Return True if no data point falls into the series' range."""
        first = queries.STATS[handle.kind][0]
        return not any(series.values[first])

    # -- answers -------------------------------------------------------------

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handle = self.get_monitor()
        try:
            query = self.get_query(handle)
        except BadParameter as exc:
            return JsonResponse(exc.as_json(), status=400)
        try:
            series = self.get_series(handle, query)
        except ValueError as exc:
            # get_query() should have refused whatever get_series() refuses; if a
            # case slips through, it is still the request's fault, never a 500.
            return JsonResponse(BadParameter("range", str(exc)).as_json(), status=400)
        data = self.get_data(handle, series, query)
        if query.format == "json":
            return JsonResponse(data)
        if query.format == "csv":
            return self.render_csv(handle, series, data)
        return self.render_card(handle, series, data, query)

    def render_csv(
        self, handle: Monitor, series: queries.Series, data: dict[str, Any]
    ) -> HttpResponse:
        """Return the data as a CSV download: one row per bucket, one column per stat."""
        tz = queries.site_timezone()
        start = series.start.astimezone(tz)
        end = series.end.astimezone(tz)
        filename = f"{handle.name}_{start:%Y%m%d-%H%M}_{end:%Y%m%d-%H%M}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        header = ["start", *series.values]
        columns = [series.values[stat] for stat in series.values]
        for group in series.groups:
            for stat, values in group.values.items():
                header.append(f"{series.split_by}={group.label} {stat}")
                columns.append(values)
        writer.writerow(header)
        for i, bucket in enumerate(series.buckets):
            row = [bucket.astimezone(tz).isoformat()]
            row.extend("" if column[i] is None else column[i] for column in columns)
            writer.writerow(row)
        return response

    def get_template_names(self, handle: Monitor) -> list[str]:
        """Return the card templates to try: ``monitoring/cards/<kind>.html`` by default."""
        if self.template_name:
            return [self.template_name]
        return [f"monitoring/cards/{handle.kind}.html"]

    def get_card_context(
        self, handle: Monitor, series: queries.Series, data: dict[str, Any], query: Query
    ) -> dict[str, Any]:
        """Return the context of the card template."""
        summary = data["summary"]
        change = summary["change"]
        if change is None:
            change_text = ""
            direction = "none"
        elif round(change * 100) == 0:
            change_text = "same as previous period"
            direction = "flat"
        else:
            direction = "up" if change > 0 else "down"
            change_text = (
                f"{'+' if change > 0 else '−'}{abs(change) * 100:,.0f}% vs previous period"
            )
        csv_params = self.request.GET.copy()
        csv_params["format"] = "csv"
        return {
            "monitor": handle,
            "series": series,
            "data": data,
            "data_json": json.dumps(data, separators=(",", ":")),
            "query": query,
            "empty": self.is_empty(handle, series),
            "headline": format_number(summary["value"]),
            "headline_label": {"total": "total", "last": "latest", "p95": "p95"}.get(
                summary["stat"], summary["stat"]
            ),
            "change_text": change_text,
            "change_direction": direction,
            "summary_text": self.get_summary_text(handle, series, data, query),
            "csv_url": f"{self.request.path}?{csv_params.urlencode()}",
        }

    def get_summary_text(
        self, handle: Monitor, series: queries.Series, data: dict[str, Any], query: Query
    ) -> str:
        """Return one or two sentences that say what the chart shows, for screen readers."""
        tz = queries.site_timezone()
        unit = f" {handle.unit}" if handle.unit else ""
        if query.range:
            period = RANGES[query.range][1].lower().replace("last", "the last", 1)
        else:
            period = (
                f"{series.start.astimezone(tz):%Y-%m-%d %H:%M} to "
                f"{series.end.astimezone(tz):%Y-%m-%d %H:%M}"
            )
        summary = data["summary"]
        value = format_number(summary["value"])
        if handle.kind == "count":
            text = f"{handle.title}: {value}{unit} in total over {period}"
        elif handle.kind == "value":
            text = f"{handle.title}: latest reading {value}{unit} over {period}"
        else:
            text = f"{handle.title}: 95th percentile {value}{unit} over {period}"
        if summary["change"] is not None:
            change = summary["change"] * 100
            if round(change) == 0:
                text += ", the same as the period before."
            else:
                direction = "up" if change > 0 else "down"
                text += f", {direction} {abs(change):,.0f}% on the period before."
        else:
            text += "."
        first = series.values[queries.STATS[handle.kind][0]]
        peak_stat = {"count": "sum", "value": "max", "duration": "p95"}[handle.kind]
        peaks = [
            (v, bucket)
            for v, bucket in zip(series.values[peak_stat], series.buckets, strict=True)
            if v is not None
        ]
        if peaks and any(first):
            peak, at = max(peaks, key=lambda p: p[0])
            text += (
                f" Highest {series.resolution}: {format_number(peak)}{unit}, "
                f"starting {at.astimezone(tz):%Y-%m-%d %H:%M}."
            )
        if series.groups:
            labels = ", ".join(group.label for group in series.groups)
            text += f" Split by {series.split_by}: {labels}."
        return text

    def render_card(
        self, handle: Monitor, series: queries.Series, data: dict[str, Any], query: Query
    ) -> HttpResponse:
        """Return the card: an HTML fragment the dashboard puts in place."""
        html = render_to_string(
            self.get_template_names(handle),
            self.get_card_context(handle, series, data, query),
            request=self.request,
        )
        return HttpResponse(html)


class IntegerCountView(MonitorView):
    """Show a count monitor (``IntegerCountBase``): bars of each bucket's sum."""

    kinds: ClassVar[tuple[str, ...]] = ("count",)
    stat = "sum"


class ValueView(MonitorView):
    """Show a gauge (``IntegerValueBase``, ``FloatValueBase``): average with a min–max band."""

    kinds: ClassVar[tuple[str, ...]] = ("value",)
    stat = "avg"


class DurationView(MonitorView):
    """Show a duration monitor (``DurationBase``): p50, p95 and p99 lines.

    ``points`` holds how many timings each bucket has.
    """

    kinds: ClassVar[tuple[str, ...]] = ("duration",)
    stat = "count"


@method_decorator(never_cache, name="dispatch")
class DashboardView(StaffRequiredMixin, TemplateView):
    """List every registered monitor, grouped by category, in dashboard order.

    The cards load themselves over AJAX when they scroll into view.
    ``?range=`` and ``?refresh=`` (seconds) set the page's range and
    auto-refresh, so a view of the dashboard can be shared by its URL.
    """

    template_name = "monitoring/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        categories: dict[str, list[Monitor]] = {}
        for handle in monitor:
            categories.setdefault(handle.category, []).append(handle)
        range_name = self.request.GET.get("range")
        if range_name not in RANGES:
            range_name = conf.DEFAULT_RANGE if conf.DEFAULT_RANGE in RANGES else "7d"
        refresh = self.request.GET.get("refresh", "0")
        refresh = int(refresh) if re.fullmatch(r"[0-9]{1,3}", refresh) else 0
        refresh = refresh if refresh in REFRESH_INTERVALS else 0
        context.update(
            base_template=conf.BASE_TEMPLATE,
            categories=list(categories.items()),
            monitor_count=len(monitor),
            ranges=[(name, label) for name, (_, label) in RANGES.items()],
            range=range_name,
            refresh_intervals=list(REFRESH_INTERVALS.items()),
            refresh=refresh,
            timezone=str(queries.site_timezone()),
        )
        return context


def monitor_detail(request: HttpRequest, name: str) -> HttpResponse:
    """Route ``/monitoring/<name>/`` to the view registered under ``name``.

    Checked here as well as in the view, so a custom view can't leak data.
    """
    if not has_access(request):
        return deny(request)
    try:
        handle = monitor.get(name)
    except NotRegistered as exc:
        raise Http404(str(exc)) from None
    return handle.view(request, name=name)
