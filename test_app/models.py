"""Example monitor models, one or more for every base."""

from django.db import models
from django.utils import timezone

from monitoring.models import (
    DurationBase,
    FloatValueBase,
    IntegerCountBase,
    IntegerValueBase,
)
from monitoring.register import monitor
from monitoring.views import IntegerCountView


class MonitorUserCount(IntegerCountBase, models.Model):
    """Users created, as in the seed's README (spelled with models.Model)."""


class MonitorOrderCount(IntegerCountBase):
    """Orders placed, with the customer's plan as a dimension (spelled without models.Model)."""

    plan = models.CharField(
        max_length=20,
        default="free",
        choices=[("free", "Free"), ("pro", "Pro"), ("team", "Team")],
    )


class MonitorQueueLength(IntegerValueBase):
    """Jobs waiting in a queue (a whole-number gauge)."""


class MonitorLoadAverage(FloatValueBase):
    """Server load average (a fractional gauge)."""


class MonitorRequestTime(DurationBase):
    """How long requests take, in milliseconds."""


class Order(models.Model):
    """An order of the demo shop: a table of the project's own, charted by register_model().

    ``placed`` has an index, which a chart by it wants (see check monitoring.W040).
    """

    placed = models.DateTimeField(default=timezone.now, db_index=True)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    plan = models.CharField(
        max_length=20,
        default="free",
        choices=[("free", "Free"), ("pro", "Pro"), ("team", "Team")],
    )
    paid = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Order of {self.total} ({self.plan}) at {self.placed:%Y-%m-%d %H:%M}"


# The seed's test app registered its monitor in models.py; that keeps working.
# (Logins are counted by the built-in monitoring.contrib.auth.)
monitor.register(
    "user_count",
    IntegerCountView.as_view(model=MonitorUserCount),
    title="New users",
    category="Users",
    order=1,
    description="Users created, counted by a post_save receiver.",
)
