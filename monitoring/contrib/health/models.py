"""The tables of monitoring's own health monitors, fed after each flush of each process."""

from django.db import models

from monitoring.models import DurationBase, IntegerCountBase


class PointCount(IntegerCountBase, models.Model):
    """Points by what became of them: taken from a buffer, written, rejected or dropped."""

    outcome = models.CharField(max_length=8)


class FlushTime(DurationBase, models.Model):
    """How long one flush took, in ms."""


class FlushLag(DurationBase, models.Model):
    """How long a buffer waited between two flushes, in ms: the longest a point waited."""


class SampleCount(IntegerCountBase, models.Model):
    """Readings of sampled gauges by outcome: ok, failed, timeout, skipped or taken."""

    outcome = models.CharField(max_length=8)
