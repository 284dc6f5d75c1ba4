"""The database monitors' system check: their middleware must be installed to feed them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

from monitoring.contrib import skip  # noqa: F401 - registers the check of the skip setting

MIDDLEWARE = "monitoring.contrib.database.middleware.QueryMiddleware"


@register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when the app is installed but its middleware is not."""
    if MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "'monitoring.contrib.database' is installed, but its middleware is not in "
            "MIDDLEWARE, so no query is counted.",
            hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE.",
            id="monitoring.W021",
        )
    ]
