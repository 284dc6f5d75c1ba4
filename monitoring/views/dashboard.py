"""The dashboard page: every registered monitor as a card, grouped by category."""

from __future__ import annotations

import json
from typing import Any

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from monitoring.alerts import firing
from monitoring.buckets import site_timezone
from monitoring.forms import RANGES, REFRESH_INTERVALS, DashboardForm
from monitoring.register import Monitor, monitor
from monitoring.views.access import StaffRequiredMixin
from monitoring.views.data import script_messages
from monitoring.views.layout import base_context

__all__ = ["DashboardView"]


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
        form = DashboardForm(self.request.GET)
        range_name, refresh = form.values()
        card_ranges = form.card_ranges()
        categories: dict[str, list[tuple[Monitor, str]]] = {}
        for handle in monitor:
            categories.setdefault(handle.category, []).append(
                (handle, card_ranges.get(handle.name, ""))
            )
        context.update(base_context(self.request))
        context.update(
            categories=list(categories.items()),
            monitor_count=len(monitor),
            ranges=[(name, label) for name, (_width, label) in RANGES.items()],
            range=range_name,
            refresh_intervals=list(REFRESH_INTERVALS.items()),
            refresh=refresh,
            timezone=str(site_timezone()),
            messages_json=json.dumps(script_messages()),
            firing=firing(),
        )
        return context
