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


class MonitorLoginCount(IntegerCountBase):
    """Successful logins (spelled without models.Model)."""


class MonitorOrderCount(IntegerCountBase):
    """Orders placed, with the customer's plan as a dimension."""

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
monitor.register(
    "login_count",
    IntegerCountView.as_view(model=MonitorLoginCount),
    title="Logins",
    category="Users",
    order=2,
    description="Successful logins, counted by a user_logged_in receiver.",
)
