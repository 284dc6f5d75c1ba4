"""``QueryMiddleware``: count each request's SQL queries and their time.

It wraps every database connection of the request's thread with
``connection.execute_wrapper()`` while the request runs, and adds one point
to ``queries_per_request`` and one to ``query_time_per_request``. Only
synchronous: under ASGI, Django runs it in the request's thread-sensitive
thread, where the ORM calls of async views run too. The monitoring URLs and
paths matching ``MONITORING_REQUESTS_SKIP`` are not recorded, nor are the
queries run while a streaming response is sent, after the middleware
returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import perf_counter, time_ns
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponseBase

from monitoring import storage
from monitoring.contrib.skip import require_app, skip_patterns, skipped

__all__ = ["QueryMiddleware"]

logger = logging.getLogger("monitoring.contrib.database")


class _Tally:
    """An execute wrapper that counts queries and sums their time."""

    __slots__ = ("queries", "seconds")

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += perf_counter() - start
            self.queries += 1


def _models() -> tuple[Any, Any]:
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
        self.queries, self.time = _models()
        self.skip = skip_patterns()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        tally = _Tally()
        # What connection.execute_wrapper() does, without a context manager per alias.
        wrapped = [connection.execute_wrappers for connection in connections.all()]
        for wrappers in wrapped:
            wrappers.append(tally)
        try:
            response = self.get_response(request)
        finally:
            for wrappers in wrapped:
                wrappers.remove(tally)
        if skipped(request, self.skip):
            return response
        now = time_ns()
        try:
            storage.record(self.queries, tally.queries, now, None)
            storage.record(self.time, tally.seconds * 1000, now, None)
        except Exception:
            # Monitoring never turns an answered request into an error.
            logger.exception("Could not record the queries of %s.", request.path_info)
        return response
