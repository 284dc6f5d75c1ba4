"""The dashboard page: every registered monitor as a card, grouped by category."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from monitoring.alerts import firing
from monitoring.buckets import site_timezone
from monitoring.forms import RANGES, REFRESH_INTERVALS, DashboardForm
from monitoring.register import Monitor, monitor
from monitoring.views.access import StaffRequiredMixin
from monitoring.views.data import script_messages
from monitoring.views.layout import base_context, card_id
from monitoring.views.monitors import card_fragment, requested_format

__all__ = ["DashboardCard", "DashboardView"]

#: The parts of the dashboard ``?part=`` can ask for alone.
PARTS = ["banner"]


@dataclass
class DashboardCard:
    """One card of the dashboard, as its template shows it."""

    monitor: Monitor
    #: The card's element id, unique on the page.
    id: str
    url: str
    #: The card's own range, or "" for the page's.
    range: str
    #: The card rendered with the page, or "" for a card that fetches itself.
    content: SafeString


@method_decorator(never_cache, name="dispatch")
class DashboardView(StaffRequiredMixin, TemplateView):
    """List every registered monitor, grouped by category, in dashboard order.

    The first :attr:`first_cards` cards come rendered with the page; the
    others load themselves over AJAX when they scroll into view.
    ``?range=`` and ``?refresh=`` (seconds) set the page's range and
    auto-refresh, so a view of the dashboard can be shared by its URL.
    ``?part=banner`` answers the banner of firing alerts alone, for
    auto-refresh; any other non-empty ``part`` is a 400 naming the parameter.
    """

    template_name = "monitoring/dashboard.html"
    #: How many cards, from the top, come rendered with the page, needing no request of
    #: their own. Each one delays the page by its card's server time, so the default is
    #: one: bench/dashboard.py measured the first chart soonest with 1 (4 drew the whole
    #: first screen a little sooner, but its first chart later).
    first_cards: int = 1

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        part = request.GET.get("part", "")
        if part == "banner":
            # What auto-refresh asks for besides the cards: the banner alone, not the page.
            return render(request, "monitoring/banner.html", {"firing": firing()})
        if part:
            # A misspelt part would otherwise get the whole page, and a script would
            # put it where the part goes.
            return self.bad_part(request)
        return super().get(request, *args, **kwargs)

    def bad_part(self, request: HttpRequest) -> HttpResponse:
        """Answer an unknown ``?part=``: JSON for data clients, plain text for the others."""
        message = _("Unknown part: the part parameter accepts %(parts)s.") % {
            "parts": ", ".join(PARTS)
        }
        if requested_format(request) == "json":
            return JsonResponse(
                {"error": message, "parameter": "part", "allowed": PARTS}, status=400
            )
        # Plain text: the value asked for is not echoed, and nothing in it is markup.
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = DashboardForm(self.request.GET)
        range_name, refresh = form.values()
        card_ranges = form.card_ranges()
        categories: dict[str, list[DashboardCard]] = {}
        for position, handle in enumerate(monitor):
            card_range = card_ranges.get(handle.name, "")
            html = None
            if position < self.first_cards:
                html = card_fragment(self.request, handle, card_range or range_name)
            categories.setdefault(handle.category, []).append(
                DashboardCard(
                    monitor=handle,
                    id=card_id(self.request, handle.name),
                    url=reverse("monitoring:monitor", args=[handle.name]),
                    range=card_range,
                    # Rendered by the monitor's own view and escaped by its template.
                    content=mark_safe(html or ""),  # noqa: S308
                )
            )
        context.update(base_context(self.request))
        context.update(
            categories=list(categories.items()),
            monitor_count=len(monitor),
            # Translated once here, not once for each of the cards' menus.
            ranges=[(name, str(label)) for name, (_width, label) in RANGES.items()],
            range=range_name,
            refresh_intervals=list(REFRESH_INTERVALS.items()),
            refresh=refresh,
            timezone=str(site_timezone()),
            messages_json=json.dumps(script_messages()),
            firing=firing(),
        )
        return context
