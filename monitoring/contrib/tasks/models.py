"""The tables of the Celery task monitors."""

from django.db import models

from monitoring.models import DurationBase, IntegerCountBase


class TaskCount(IntegerCountBase, models.Model):
    """One row per finished task run: its name and outcome (success, failure or retry)."""

    task = models.CharField(max_length=200)
    outcome = models.CharField(max_length=7)


class TaskRunTime(DurationBase, models.Model):
    """How long each task run took in the worker, in ms, by task name."""

    task = models.CharField(max_length=200)
