"""Example monitor models, one or more for every base."""

from django.db import models

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
