"""The task monitors' system check: they need Celery."""

from __future__ import annotations

import importlib.util
from typing import Any

from django.core.checks import Error, register


def celery_installed() -> bool:
    return importlib.util.find_spec("celery") is not None


@register()
def check_celery(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse the app without Celery: nothing would ever feed its monitors."""
    if celery_installed():
        return []
    return [
        Error(
            "'monitoring.contrib.tasks' is installed, but Celery is not.",
            hint="pip install celery, or remove the app from INSTALLED_APPS.",
            id="monitoring.E023",
        )
    ]
