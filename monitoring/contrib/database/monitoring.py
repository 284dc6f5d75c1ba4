"""Register the database monitors (found by autodiscovery)."""

from monitoring.contrib.database.models import QueriesPerRequest, QueryTimePerRequest
from monitoring.register import monitor
from monitoring.views import DurationView, ValueView

CATEGORY = "Database"

monitor.register(
    "queries_per_request",
    ValueView.as_view(model=QueriesPerRequest),
    title="Queries per request",
    category=CATEGORY,
    order=1,
    unit="queries",
    description="SQL queries one request ran, on every database.",
)
monitor.register(
    "query_time_per_request",
    DurationView.as_view(model=QueryTimePerRequest),
    title="Time in queries per request",
    category=CATEGORY,
    order=2,
    unit="ms",
    description="Time one request spent in SQL queries, on every database.",
)
