"""The tables of the database monitors."""

from django.db import models

from monitoring.models import DurationBase, IntegerValueBase


class QueriesPerRequest(IntegerValueBase, models.Model):
    """How many SQL queries one request ran, on every database alias."""


class QueryTimePerRequest(DurationBase, models.Model):
    """How long one request's SQL queries took together, in ms."""
