"""``QueryMiddleware``: count each request's SQL queries and their time.

It is the switch that turns query counting on. With ``MonitoringMiddleware``
in ``MIDDLEWARE`` too, that middleware does the counting, for the whole
request (every middleware's queries, not only those below this one), and
this one takes itself out of the chain (``MiddlewareNotUsed``): one layer
less per request, and the queries of async views are counted under ASGI.

On its own it counts the queries of the middleware below it and of the
view, synchronously: under ASGI, Django runs it in the request's
thread-sensitive thread, where the ORM calls of async views run too.

Each request adds one point to ``queries_per_request`` and one to
``query_time_per_request`` (see :mod:`monitoring.contrib.database.tally` for
how they are counted). The monitoring URLs and paths matching
``MONITORING_REQUESTS_SKIP`` are not recorded, nor are the queries run while
a streaming response is sent, after the middleware returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import time_ns
from typing import Any

from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

from monitoring import storage
from monitoring.contrib.database import tally
from monitoring.contrib.skip import (
    requests_middleware_counts_queries,
    require_app,
    skip_patterns,
    skipped,
)

__all__ = ["QueryMiddleware", "models"]

logger = logging.getLogger("monitoring.contrib.database")


def models() -> tuple[Any, Any]:
    """Return the database monitors' models, or say which app to install."""
    require_app("monitoring.contrib.database", "QueryMiddleware")
    from monitoring.contrib.database.models import QueriesPerRequest, QueryTimePerRequest

    return QueriesPerRequest, QueryTimePerRequest


class QueryMiddleware:
    """Record each request's number of queries and time in queries; see the module docstring."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        queries, time = models()
        self.keys = queries._point_key, time._point_key
        if requests_middleware_counts_queries():
            raise MiddlewareNotUsed("MonitoringMiddleware counts the queries of each request.")
        self.skip = skip_patterns()
        tally.install()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        counted, token = tally.begin()
        try:
            response = self.get_response(request)
        finally:
            tally.end(token)
        if skipped(request, self.skip):
            return response
        now = time_ns()
        queries, time = self.keys
        try:
            storage.record_points(
                ((queries, counted.queries, now, None), (time, counted.seconds * 1000, now, None))
            )
        except Exception:
            # Monitoring never turns an answered request into an error.
            logger.exception("Could not record the queries of %s.", request.path_info)
        return response
