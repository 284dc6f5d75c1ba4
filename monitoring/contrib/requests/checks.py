"""The request monitors' system checks: their middleware must be installed to feed them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

from monitoring.contrib import skip  # noqa: F401 - registers the check of the skip setting

MIDDLEWARE = "monitoring.contrib.requests.middleware.MonitoringMiddleware"


@register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when the app is installed but its middleware is not."""
    if MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            "'monitoring.contrib.requests' is installed, but its middleware is not in "
            "MIDDLEWARE, so no request is recorded.",
            hint=f"Add {MIDDLEWARE!r} at the top of MIDDLEWARE.",
            id="monitoring.W020",
        )
    ]
