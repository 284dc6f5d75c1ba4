"""Register the request monitors (found by autodiscovery)."""

from monitoring.contrib.requests.models import RequestCount, RequestException, RequestLatency
from monitoring.register import monitor
from monitoring.views import DurationView, IntegerCountView

CATEGORY = "Requests"

monitor.register(
    "requests",
    IntegerCountView.as_view(model=RequestCount),
    title="Requests",
    category=CATEGORY,
    order=1,
    unit="requests",
    description="Requests answered, by HTTP method and status class.",
)
monitor.register(
    "request_latency",
    DurationView.as_view(model=RequestLatency),
    title="Request latency",
    category=CATEGORY,
    order=2,
    unit="ms",
    description="Time from the request reaching MonitoringMiddleware to its response, by view.",
)
monitor.register(
    "request_exceptions",
    IntegerCountView.as_view(model=RequestException),
    title="Unhandled exceptions",
    category=CATEGORY,
    order=3,
    unit="exceptions",
    description="Exceptions that views raised and nothing caught, by class.",
)
