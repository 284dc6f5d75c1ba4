"""Views: the dashboard page and one view per kind of monitor.

Each room holds one concern: :mod:`~monitoring.views.access` (who may look,
and what the others are told), :mod:`~monitoring.views.monitors` (the view
of each monitor: card, JSON, CSV), :mod:`~monitoring.views.dashboard` (the
page of cards), :mod:`~monitoring.views.data` (the chart data) and
:mod:`~monitoring.views.text` (numbers, times and sentences for people).
The query parameters are parsed by the forms in :mod:`monitoring.forms`.
"""

from __future__ import annotations

from monitoring.forms import FORMATS, RANGES, REFRESH_INTERVALS, RESERVED_PARAMETERS, Query
from monitoring.views.access import StaffRequiredMixin, has_access
from monitoring.views.dashboard import DashboardView
from monitoring.views.monitors import (
    DurationView,
    IntegerCountView,
    MonitorView,
    ValueView,
    monitor_detail,
)

__all__ = [
    "FORMATS",
    "RANGES",
    "REFRESH_INTERVALS",
    "RESERVED_PARAMETERS",
    "DashboardView",
    "DurationView",
    "IntegerCountView",
    "MonitorView",
    "Query",
    "StaffRequiredMixin",
    "ValueView",
    "has_access",
    "monitor_detail",
]
