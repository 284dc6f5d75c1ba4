"""Monitors of the demo project, found by autodiscovery like admin.py.

``user_count`` is registered in models.py, as the seed's test app did.
"""

from django.db.models import Sum

from monitoring.alerts import Rule
from monitoring.register import monitor
from monitoring.views import DurationView, IntegerCountView, ValueView
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
    Order,
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
monitor.register_model(
    "revenue",
    Order,
    date_field="placed",
    value=Sum("total"),
    dimensions=["plan", "paid"],
    title="Revenue",
    category="Shop",
    order=2,
    unit="EUR",
    description="The total of the orders placed, read straight from the orders table.",
)


@monitor.sample("unpaid_orders", every="1m", title="Unpaid orders", category="Shop", order=3)
def unpaid_orders():
    """Orders placed but not paid yet: a state, read once a minute."""
    return Order.objects.filter(paid=False).count()


# Alert rules that fire on the sample data (manage.py demo) at any hour, so the badge,
# the banner and the threshold line can be seen. slow_requests resolves an hour after the sample
# data ends, and /monitoring/health goes from 503 back to 200.
monitor.alert(
    "slow_requests",
    Rule("request_time", stat="p95", above=50, window="1h", critical=True),
)
monitor.alert(
    "busy_queue",
    Rule(
        "queue_length",
        stat="max",
        above=5,
        window="1d",
        description="More than 5 jobs waited at once.",
    ),
)
