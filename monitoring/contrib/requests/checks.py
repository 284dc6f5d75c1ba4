"""The request monitors' system check: their middleware must be installed to feed them."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

MIDDLEWARE = "monitoring.contrib.requests.middleware.MonitoringMiddleware"


@register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when the app is installed but its middleware is not; refuse bad skip patterns."""
    messages = []
    if MIDDLEWARE not in settings.MIDDLEWARE:
        messages.append(
            Warning(
                "'monitoring.contrib.requests' is installed, but its middleware is not in "
                "MIDDLEWARE, so no request is recorded.",
                hint=f"Add {MIDDLEWARE!r} at the top of MIDDLEWARE.",
                id="monitoring.W020",
            )
        )
    skip = getattr(settings, "MONITORING_REQUESTS_SKIP", ())
    if isinstance(skip, str) or not isinstance(skip, (list, tuple)):
        messages.append(
            Error(
                f"MONITORING_REQUESTS_SKIP must be a list of regular expressions, not {skip!r}.",
                id="monitoring.E022",
            )
        )
    else:
        for pattern in skip:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                messages.append(
                    Error(
                        f"MONITORING_REQUESTS_SKIP has an invalid regular expression "
                        f"{pattern!r}: {exc}.",
                        id="monitoring.E022",
                    )
                )
    return messages
