"""The database monitors' system check: their middleware must be installed to feed them."""

from __future__ import annotations

from typing import Any

from django.core.checks import register

from monitoring.contrib.skip import DATABASE_MIDDLEWARE, missing_middleware


@register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when the app is installed but its middleware is not."""
    return missing_middleware(
        "monitoring.contrib.database", DATABASE_MIDDLEWARE, "no query is counted", "monitoring.W021"
    )
