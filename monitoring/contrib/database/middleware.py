"""``QueryMiddleware``: count each request's SQL queries and their time.

It wraps every database connection of the request's thread with
``connection.execute_wrapper()`` while the request runs, and adds one point
to ``queries_per_request`` and one to ``query_time_per_request``. Only
synchronous: under ASGI, Django runs it in the request's thread-sensitive
thread, where the ORM calls of async views run too. The monitoring URLs and
paths matching ``MONITORING_REQUESTS_SKIP`` are not recorded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import HttpRequest, HttpResponseBase

__all__ = ["QueryMiddleware"]


class _Tally:
    """An execute wrapper that counts queries and sums their time."""

    __slots__ = ("queries", "seconds")

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries += 1


def _models() -> tuple[Any, Any]:
    """Return the database monitors' models, or say which app to install."""
    from django.apps import apps

    if not apps.is_installed("monitoring.contrib.database"):
        raise ImproperlyConfigured(
            "QueryMiddleware records into the tables of 'monitoring.contrib.database': "
            "add it to INSTALLED_APPS (then run migrate)."
        )
    from monitoring.contrib.database.models import QueriesPerRequest, QueryTimePerRequest

    return QueriesPerRequest, QueryTimePerRequest


class QueryMiddleware:
    """Record each request's number of queries and time in queries; see the module docstring."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.queries, self.time = _models()
        skip = getattr(settings, "MONITORING_REQUESTS_SKIP", ())
        self.skip = re.compile("|".join(f"(?:{pattern})" for pattern in skip)) if skip else None

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        tally = _Tally()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(tally))
            response = self.get_response(request)
        match = request.resolver_match
        if match is not None and "monitoring" in match.app_names:
            return response
        if self.skip is not None and self.skip.match(request.path_info):
            return response
        self.queries.add(tally.queries)
        self.time.add(tally.seconds * 1000)
        return response
