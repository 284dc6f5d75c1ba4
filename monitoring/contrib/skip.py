"""What the built-in middleware share: which requests they leave alone, the checks of
their settings, and the check that their app is installed.

The monitoring URLs themselves are never recorded; nor are requests whose
``path_info`` starts with a match of one of ``MONITORING_REQUESTS_SKIP``'s
regular expressions, each compiled on its own.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from monitoring.conf import conf

#: The built-in middleware, as they are named in ``MIDDLEWARE``.
REQUESTS_MIDDLEWARE = "monitoring.contrib.requests.middleware.MonitoringMiddleware"
DATABASE_MIDDLEWARE = "monitoring.contrib.database.middleware.QueryMiddleware"


def requests_middleware_counts_queries() -> bool:
    """Return True if ``MonitoringMiddleware`` counts the queries and ``QueryMiddleware`` steps out.

    Both must be listed under these very names: a subclass listed under a
    name of its own keeps the two apart, so no request's queries are counted
    twice, or not at all.
    """
    return REQUESTS_MIDDLEWARE in settings.MIDDLEWARE and DATABASE_MIDDLEWARE in settings.MIDDLEWARE


def skip_patterns() -> list[re.Pattern[str]]:
    """Return the patterns of ``MONITORING_REQUESTS_SKIP``, compiled; E022 reports bad ones."""
    patterns = []
    skip = conf.REQUESTS_SKIP
    if isinstance(skip, (list, tuple)):
        for pattern in skip:
            try:
                patterns.append(re.compile(pattern))
            except (re.error, TypeError):
                continue
    return patterns


def skipped(request: HttpRequest, patterns: list[re.Pattern[str]]) -> bool:
    """Return True if the request is one of monitoring's own or matches a skip pattern.

    Decided once per request and kept on it: with both built-in middleware,
    the second one asks again (both read the same setting).
    """
    known = request.__dict__.get("_monitoring_skipped")
    if known is not None:
        return known
    match = request.resolver_match
    if match is not None and "monitoring" in match.app_names:
        result = True
    elif not patterns:
        result = False
    else:
        path = request.path_info
        result = any(pattern.match(path) for pattern in patterns)
    request._monitoring_skipped = result
    return result


@register()
def check_skip_setting(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse a MONITORING_REQUESTS_SKIP that is not a list of valid regular expressions."""
    skip = conf.REQUESTS_SKIP
    if isinstance(skip, str) or not isinstance(skip, (list, tuple)):
        return [
            Error(
                f"MONITORING_REQUESTS_SKIP must be a list of regular expressions, not {skip!r}.",
                id="monitoring.E022",
            )
        ]
    errors = []
    for pattern in skip:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            errors.append(
                Error(
                    f"MONITORING_REQUESTS_SKIP has an invalid regular expression {pattern!r}: "
                    f"{exc}.",
                    id="monitoring.E022",
                )
            )
    return errors


def missing_middleware(app: str, middleware: str, consequence: str, check_id: str) -> list:
    """Return a warning when ``app`` is installed without its ``middleware``, else nothing."""
    if middleware in settings.MIDDLEWARE:
        return []
    return [
        Warning(
            f"{app!r} is installed, but its middleware is not in MIDDLEWARE, so {consequence}.",
            hint=f"Add {middleware!r} to MIDDLEWARE.",
            id=check_id,
        )
    ]


def require_app(app: str, middleware: str) -> None:
    """Raise ImproperlyConfigured, naming ``app``, unless it is installed.

    A middleware records into its app's tables; without the app, importing
    its models would fail with a message that names neither.
    """
    if not apps.is_installed(app):
        raise ImproperlyConfigured(
            f"{middleware} records into the tables of {app!r}: "
            f"add it to INSTALLED_APPS (then run migrate)."
        )
