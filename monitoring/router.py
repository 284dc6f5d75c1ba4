"""Keep every monitoring table on ``MONITORING_DATABASE``.

Add it to your settings when that is not ``"default"``::

    DATABASE_ROUTERS = ["monitoring.router.MonitoringRouter"]

It routes monitoring's own rollup tables and the raw rows of every model
built on a monitoring base; it has no opinion about any other model.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from monitoring.conf import conf

__all__ = ["MonitoringRouter", "is_monitoring_model"]


def is_monitoring_model(model: type[models.Model]) -> bool:
    """Return True for monitoring's own models and models built on a monitoring base."""
    from monitoring.models import MonitorBase

    return model._meta.app_label == "monitoring" or issubclass(model, MonitorBase)


class MonitoringRouter:
    """Send reads, writes and migrations of monitoring data to ``MONITORING_DATABASE``."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        return conf.DATABASE if is_monitoring_model(model) else None

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return conf.DATABASE if is_monitoring_model(model) else None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if app_label == "monitoring":
            return db == conf.DATABASE
        if model_name is None:
            return None
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return None  # a model the migration removes; let other routers decide
        if is_monitoring_model(model):
            return db == conf.DATABASE
        return None
