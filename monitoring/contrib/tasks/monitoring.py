"""Register the Celery task monitors (found by autodiscovery)."""

from monitoring.contrib.tasks.models import TaskCount, TaskRunTime
from monitoring.register import monitor
from monitoring.views import DurationView, IntegerCountView

CATEGORY = "Tasks"

monitor.register(
    "tasks",
    IntegerCountView.as_view(model=TaskCount),
    title="Tasks",
    category=CATEGORY,
    order=1,
    unit="runs",
    description="Celery task runs, by task name and outcome (success, failure, retry).",
)
monitor.register(
    "task_runtime",
    DurationView.as_view(model=TaskRunTime),
    title="Task run time",
    category=CATEGORY,
    order=2,
    unit="ms",
    description="How long each Celery task run took in its worker, by task name.",
)
