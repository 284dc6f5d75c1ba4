"""Views: the dashboard page and one data view per kind of monitor.

Register a monitor with the view for its kind::

    monitor.register("user_count", IntegerCountView.as_view(model=MonitorUserCount))

Subclass :class:`MonitorView` to change what a monitor answers; every view
here is staff-only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from monitoring import queries
from monitoring.conf import conf
from monitoring.exceptions import NotRegistered
from monitoring.models import MonitorBase
from monitoring.register import Monitor, monitor

__all__ = [
    "DashboardView",
    "DurationView",
    "IntegerCountView",
    "MonitorView",
    "StaffRequiredMixin",
    "ValueView",
    "monitor_detail",
]


#: The stat each kind shows when a view does not set one.
DEFAULT_STATS = {"count": "sum", "value": "avg", "duration": "count"}


def has_access(request: HttpRequest) -> bool:
    """Return True if the request's user may see monitoring data: active staff."""
    user = request.user
    return bool(user.is_active and user.is_staff)


def deny(request: HttpRequest) -> HttpResponse:
    """Send anonymous users to the login page; refuse everybody else with 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied("Monitoring is for active staff users only.")


class StaffRequiredMixin:
    """Let only active staff users through (``staff_member_required`` semantics)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_access(request):
            return deny(request)
        return super().dispatch(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class MonitorView(StaffRequiredMixin, View):
    """Answer with a monitor's data as JSON: one bucket per day for the last days.

    Subclasses set :attr:`kinds` (which models they can show) and :attr:`stat`
    (the aggregate of each bucket), and may override :meth:`get_data`.
    """

    #: The monitor model; set it with ``as_view(model=...)``.
    model: type[MonitorBase] | None = None
    #: The kinds of model this view can show; empty means any.
    kinds: ClassVar[tuple[str, ...]] = ()
    #: The stat of each daily bucket (see ``monitoring.queries.STATS``); None picks
    #: the kind's default: sum for counts, avg for gauges, count for durations.
    stat: str | None = None
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
        """Return the stat this view shows for ``handle``."""
        stat = self.stat or DEFAULT_STATS[handle.kind]
        if stat not in queries.STATS[handle.kind]:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.stat is {stat!r}, which a {handle.kind} monitor "
                f"does not have; choose one of {', '.join(queries.STATS[handle.kind])}."
            )
        return stat

    def get_data(self, handle: Monitor) -> dict[str, Any]:
        """Return the JSON-ready data: the monitor's description and its daily buckets."""
        days = conf.DEFAULT_DAYS
        today = timezone.localdate() if settings.USE_TZ else dt.date.today()
        start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time())
        end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time())
        series = queries.get_series(handle, start=start, end=end, resolution="day")
        stat = self.get_stat(handle)
        return {
            "name": handle.name,
            "title": handle.title,
            "kind": handle.kind,
            "unit": handle.unit,
            "stat": stat,
            "resolution": series.resolution,
            "timezone": str(queries.site_timezone()),
            "points": [
                {"start": bucket.isoformat(), "value": value}
                for bucket, value in zip(series.buckets, series.values[stat], strict=True)
            ],
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse(self.get_data(self.get_monitor()))


class IntegerCountView(MonitorView):
    """Show a count monitor (``IntegerCountBase``): the sum of each day."""

    kinds: ClassVar[tuple[str, ...]] = ("count",)
    stat = "sum"


class ValueView(MonitorView):
    """Show a gauge (``IntegerValueBase``, ``FloatValueBase``): the average of each day."""

    kinds: ClassVar[tuple[str, ...]] = ("value",)
    stat = "avg"


class DurationView(MonitorView):
    """Show a duration monitor (``DurationBase``): how many timings each day has."""

    kinds: ClassVar[tuple[str, ...]] = ("duration",)
    stat = "count"


@method_decorator(never_cache, name="dispatch")
class DashboardView(StaffRequiredMixin, TemplateView):
    """List every registered monitor, grouped by category, in dashboard order."""

    template_name = "monitoring/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        categories: dict[str, list[Monitor]] = {}
        for handle in monitor:
            categories.setdefault(handle.category, []).append(handle)
        context.update(
            base_template=conf.BASE_TEMPLATE,
            categories=list(categories.items()),
            monitor_count=len(monitor),
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
