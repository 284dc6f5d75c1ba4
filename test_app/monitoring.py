"""Monitors of the demo project, found by autodiscovery like admin.py.

``user_count`` is registered in models.py, as the seed's test app did.
"""

from monitoring.register import monitor
from monitoring.views import DurationView, IntegerCountView, ValueView
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
)

monitor.register(
    "orders",
    IntegerCountView.as_view(model=MonitorOrderCount),
    title="Orders",
    category="Shop",
    unit="orders",
    description="Orders placed, by plan.",
)
monitor.register(
    "queue_length",
    ValueView.as_view(model=MonitorQueueLength),
    title="Queue length",
    category="System",
    order=1,
    unit="jobs",
)
monitor.register(
    "load_average",
    ValueView.as_view(model=MonitorLoadAverage),
    title="Load average",
    category="System",
    order=2,
)
monitor.register(
    "request_time",
    DurationView.as_view(model=MonitorRequestTime),
    title="Request time",
    category="System",
    order=3,
    unit="ms",
)
