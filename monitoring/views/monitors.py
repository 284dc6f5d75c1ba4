"""The view of each monitor: its card, its data as JSON, or its data as CSV.

Register a monitor with the view for its kind::

    monitor.register("user_count", IntegerCountView.as_view(model=MonitorUserCount))

At ``/monitoring/<name>/`` the view answers a browser with the monitor's own
page, ``?format=card`` (or a script's ``X-Requested-With: XMLHttpRequest``)
with its dashboard card (an HTML fragment), ``?format=json`` (or ``Accept:
application/json``) with the chart data and ``?format=csv`` (or ``Accept:
text/csv``) with the same data as a download. Subclass :class:`MonitorView`
to change any of them.
"""

from __future__ import annotations

import copy
import csv
import json
import logging
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from monitoring import queries
from monitoring.buckets import site_timezone, to_utc
from monitoring.conf import conf
from monitoring.exceptions import NotRegistered
from monitoring.forms import FORMATS, MAX_TOP, RANGES, MonitorQueryForm, Query
from monitoring.models import MonitorBase
from monitoring.register import Monitor, monitor
from monitoring.views.access import StaffRequiredMixin, deny, has_access, not_found
from monitoring.views.data import DEFAULT_STATS, chart_data, script_messages
from monitoring.views.layout import base_context, card_id
from monitoring.views.text import (
    change_text,
    data_is_empty,
    format_number,
    resolution_name,
    summary_html,
    time_html,
)

__all__ = [
    "DurationView",
    "IntegerCountView",
    "MonitorView",
    "ValueView",
    "card_fragment",
    "monitor_detail",
]

logger = logging.getLogger(__name__)


def requested_format(request: HttpRequest) -> str:
    """Return the format the headers ask for when the URL names none.

    A script's request (``X-Requested-With: XMLHttpRequest``, as jQuery sends)
    gets the card; an ``Accept`` header for JSON or CSV without HTML gets that;
    everything else, browsers first, gets the page.
    """
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return "card"
    accept = request.headers.get("Accept", "")
    if "text/html" not in accept:
        if "application/json" in accept:
            return "json"
        if "text/csv" in accept:
            return "csv"
    return "page"


def table_exists(model: type[MonitorBase]) -> bool:
    """Return True if the model's table is in its database (False until it is migrated)."""
    alias = router.db_for_write(model)
    with connections[alias].cursor() as cursor:
        return model._meta.db_table in connections[alias].introspection.table_names(cursor)


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
    #: The form that parses the query string.
    form_class: ClassVar[type[MonitorQueryForm]] = MonitorQueryForm
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

    def get_form(self, handle: Monitor) -> MonitorQueryForm:
        """Return the bound form of the query string."""
        return self.form_class(self.request.GET, handle=handle)

    def get_query(self, form: MonitorQueryForm) -> Query:
        """Return the cleaned query of a valid form."""
        query = form.query()
        query.format = query.format or requested_format(self.request)
        return query

    def get_series(self, handle: Monitor, query: Query) -> queries.Series:
        """Return the series the query asks for."""
        return queries.get_series(handle, **query.series_kwargs())

    def get_data(self, handle: Monitor, series: queries.Series, query: Query) -> dict[str, Any]:
        """Return the JSON-ready chart data; see docs/dashboard.rst for its shape."""
        return chart_data(handle, series, query, self.get_stat(handle))

    def is_empty(self, handle: Monitor, data: dict[str, Any]) -> bool:
        """Return True if no data point falls into the data's range."""
        return data_is_empty(handle.kind, data)

    # -- answers -------------------------------------------------------------

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handle = self.get_monitor()
        form = self.get_form(handle)
        if not form.is_valid():
            return self.render_bad_request(handle, form)
        query = self.get_query(form)
        if query.format == "page":
            # The page draws its chart from the card, which it fetches like the dashboard.
            return self.render_page(handle, query)
        try:
            series = self.get_series(handle, query)
        except ValueError as exc:
            # The form should have refused whatever get_series() refuses; if a
            # case slips through, it is still the request's fault, never a 500.
            allowed = list(form.fields["range"].allowed)
            return JsonResponse(
                {"error": str(exc), "parameter": "range", "allowed": allowed}, status=400
            )
        data = self.get_data(handle, series, query)
        if query.format == "json":
            return JsonResponse(data)
        if query.format == "csv":
            return self.render_csv(handle, series, data)
        return self.render_card(handle, series, data, query)

    def render_bad_request(self, handle: Monitor, form: MonitorQueryForm) -> HttpResponse:
        """Return the 400 for bad parameters: a page for a browser, JSON for anyone else.

        A browser asks for the monitor's page: ``?format=page``, or no valid
        ``?format=`` and headers that ask for HTML (a script that sends no
        ``Accept`` keeps getting JSON).
        """
        body = form.error_json()
        asked = self.request.GET.get("format")
        if asked not in FORMATS:  # missing, or itself the bad parameter: ask the headers
            wants_html = "text/html" in self.request.headers.get("Accept", "")
            asked = requested_format(self.request) if wants_html else "json"
        if asked != "page":
            return JsonResponse(body, status=400)
        context = {**base_context(self.request), "monitor": handle, **body}
        html = render_to_string("monitoring/bad_request.html", context, request=self.request)
        return HttpResponse(html, status=400)

    def render_csv(
        self, handle: Monitor, series: queries.Series, data: dict[str, Any]
    ) -> HttpResponse:
        """Return the data as a CSV download: one row per bucket, one column per stat.

        A value that is not a finite number is a blank cell, as in JSON.
        """
        tz = site_timezone()
        start = series.start.astimezone(tz)
        end = series.end.astimezone(tz)
        filename = f"{handle.name}_{start:%Y%m%d-%H%M}_{end:%Y%m%d-%H%M}.csv"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        writer = csv.writer(response)
        header = ["start", *data["values"]]
        columns = list(data["values"].values())
        for group in data["groups"]:
            for stat, values in group["values"].items():
                header.append(f"{series.split_by}={group['label']} {stat}")
                columns.append(values)
        writer.writerow(header)
        for i, bucket in enumerate(series.buckets):
            row = [bucket.astimezone(tz).isoformat()]
            row.extend("" if column[i] is None else column[i] for column in columns)
            writer.writerow(row)
        return response

    def get_page_context(self, handle: Monitor, query: Query) -> dict[str, Any]:
        """Return the context of the monitor's page (``monitoring/detail.html``)."""
        tz = site_timezone()
        params = self.request.GET.copy()
        params.pop("format", None)
        exports = {}
        for fmt in ("csv", "json"):
            export = params.copy()
            export["format"] = fmt
            exports[fmt] = f"{self.request.path}?{export.urlencode()}"
        dimensions = handle.dimension_names()
        return {
            **base_context(self.request),
            "monitor": handle,
            "card_id": card_id(self.request, handle.name),
            "query": query,
            "card_params": params.urlencode(),
            "csv_url": exports["csv"],
            "json_url": exports["json"],
            "ranges": [(name, label) for name, (_width, label) in RANGES.items()],
            "start_local": query.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "end_local": query.end.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "dimensions": dimensions,
            "split": query.split_by or "none",
            "max_top": MAX_TOP,
            "filters": [
                (name, value) for name in dimensions for value in self.request.GET.getlist(name)
            ],
            "timezone": str(tz),
            "messages_json": json.dumps(script_messages()),
            **rule_context(handle),
        }

    def render_page(self, handle: Monitor, query: Query) -> HttpResponse:
        """Return the monitor's own page: a full-width chart, its controls and its data."""
        html = render_to_string(
            "monitoring/detail.html", self.get_page_context(handle, query), request=self.request
        )
        return HttpResponse(html)

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
        text, direction = change_text(summary["change"])
        csv_params = self.request.GET.copy()
        csv_params["format"] = "csv"
        empty = self.is_empty(handle, data)
        last_point = queries.last_point(handle) if empty else None
        missing_table = empty and last_point is None and not table_exists(handle.model)
        return {
            "monitor": handle,
            "series": series,
            "data": data,
            "data_json": json.dumps(data, separators=(",", ":")),
            "query": query,
            "empty": empty,
            "last_point": last_point,
            "last_point_html": time_html(last_point) if last_point else "",
            "missing_table": handle.model._meta.db_table if missing_table else None,
            "headline": (
                _("too large")
                if data["overflow"] and summary["value"] is None
                else format_number(summary["value"])
            ),
            "headline_label": {
                "total": _("total"),
                "last": _("latest"),
                "p95": _("p95"),
            }.get(summary["stat"], summary["stat"]),
            "change_text": text,
            "resolution_label": _("per %(resolution)s")
            % {"resolution": resolution_name(series.resolution)},
            "change_direction": direction,
            "summary_text": self.get_summary_text(handle, series, data, query),
            "csv_url": f"{self.request.path}?{csv_params.urlencode()}",
            "firing_rules": [rule for rule in data.get("alerts", []) if rule["state"] == "firing"],
        }

    def get_summary_text(
        self, handle: Monitor, series: queries.Series, data: dict[str, Any], query: Query
    ) -> str:
        """Return one or two sentences that say what the chart shows, for screen readers."""
        return summary_html(handle, series, data, query)

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


#: How many of its rules' transitions a monitor's page lists.
HISTORY_LENGTH = 20


def rule_context(handle: Monitor) -> dict[str, Any]:
    """Return the alert rules on ``handle`` with their state, and their recent transitions."""
    from monitoring.alerts import for_monitor, format_value
    from monitoring.models import AlertTransition

    rules = for_monitor(handle.name)
    history: list[AlertTransition] = []
    if rules:
        names = [rule["name"] for rule in rules]
        rows = AlertTransition.objects.using(conf.DATABASE).filter(rule__in=names)
        history = list(rows.order_by("-at", "-id")[:HISTORY_LENGTH])
        for transition in history:
            transition.at_html = time_html(to_utc(transition.at))
            transition.value_text = format_value(transition.value)
    return {"rules": rules, "rule_history": history}


def monitor_detail(request: HttpRequest, name: str) -> HttpResponse:
    """Route ``/monitoring/<name>/`` to the view registered under ``name``.

    Checked here as well as in the view, so a custom view can't leak data.
    """
    if not has_access(request):
        return deny(request)
    try:
        handle = monitor.get(name)
    except NotRegistered as exc:
        response = not_found(request, str(exc))
        if response is not None:
            return response
        raise Http404(str(exc)) from None
    return handle.view(request, name=name)


def card_fragment(request: HttpRequest, handle: Monitor, range_name: str) -> str | None:
    """Return the card of ``handle`` over ``range_name`` as its view answers ``?format=card``.

    The dashboard renders its first cards into its own page this way, so the
    charts at the top need no request of their own. Return None when the view
    answers anything but a card: the page then leaves the card to fetch
    itself, which shows the error in that card alone, as for any other card.
    """
    params = QueryDict(mutable=True)
    params.update({"range": range_name, "format": "card"})
    path = reverse("monitoring:monitor", args=[handle.name])
    card_request = copy.copy(request)
    card_request.GET = params
    card_request.path = card_request.path_info = path
    card_request.META = {**request.META, "PATH_INFO": path, "QUERY_STRING": params.urlencode()}
    try:
        response = handle.view(card_request, name=handle.name)
    except Exception:
        # One card's failure must not take the dashboard down; its own request reports it.
        logger.exception("The card of monitor %r failed to render in the dashboard.", handle.name)
        return None
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return None
    return response.content.decode(response.charset)
