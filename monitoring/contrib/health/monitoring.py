"""Register monitoring's own health monitors (found by autodiscovery)."""

from monitoring.contrib.health.models import FlushLag, FlushTime, PointCount, SampleCount
from monitoring.register import monitor
from monitoring.views import DurationView, IntegerCountView

CATEGORY = "Monitoring"

monitor.register(
    "monitoring_points",
    IntegerCountView.as_view(model=PointCount),
    title="Data points",
    category=CATEGORY,
    order=1,
    unit="points",
    description="Points every process's buffer took, wrote, had refused or dropped.",
)
monitor.register(
    "monitoring_flush_time",
    DurationView.as_view(model=FlushTime),
    title="Flush time",
    category=CATEGORY,
    order=2,
    unit="ms",
    description="How long each flush of a buffer took.",
)
monitor.register(
    "monitoring_flush_lag",
    DurationView.as_view(model=FlushLag),
    title="Flush lag",
    category=CATEGORY,
    order=3,
    unit="ms",
    description="How long a buffer waited between two flushes: the longest a point waited.",
)
monitor.register(
    "monitoring_samples",
    IntegerCountView.as_view(model=SampleCount),
    title="Gauge samples",
    category=CATEGORY,
    order=4,
    unit="samples",
    description=(
        "Readings of sampled gauges: taken, failed, timed out, skipped while the last one "
        "still ran, or taken already by another process."
    ),
)
