"""The tables of the request monitors (see ``monitoring.contrib.requests.monitoring``)."""

from django.db import models

from monitoring.models import DurationBase, IntegerCountBase


class RequestCount(IntegerCountBase, models.Model):
    """One row per request: its HTTP method and status class (``2xx`` … ``5xx``)."""

    method = models.CharField(max_length=16)
    status_class = models.CharField(max_length=3)


class RequestLatency(DurationBase, models.Model):
    """How long each request took in the worker, in ms, by view name ("" if unresolved or off)."""

    view = models.CharField(max_length=200, blank=True)


class RequestException(IntegerCountBase, models.Model):
    """One row per unhandled exception, by its class (``module.QualName``)."""

    exception = models.CharField(max_length=200)
