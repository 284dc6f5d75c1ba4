"""``QueryMiddleware``: count each request's SQL queries and their time.

Each database connection object gets one execute wrapper, once: when the
middleware starts (the connections its thread has already) and whenever a
connection connects (``connection_created``). The wrapper counts only while
a request runs in its thread, through a thread-local tally; that costs a
request two attribute writes, not a wrapper added to and removed from every
connection. Each request adds one point to ``queries_per_request`` and one
to ``query_time_per_request``.

Only synchronous: under ASGI, Django runs it in the request's
thread-sensitive thread, where the ORM calls of async views run too. The
monitoring URLs and paths matching ``MONITORING_REQUESTS_SKIP`` are not
recorded, nor are the queries run while a streaming response is sent, after
the middleware returned. Outside requests (commands, tasks) each query pays
one wrapper call that finds no tally.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import perf_counter, time_ns
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponseBase

from monitoring import storage
from monitoring.contrib.skip import require_app, skip_patterns, skipped

__all__ = ["QueryMiddleware"]

logger = logging.getLogger("monitoring.contrib.database")


class _Tally:
    """The queries of one request and their time, in seconds."""

    __slots__ = ("queries", "seconds")

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0


#: ``current.tally``: the running request's tally in this thread, if any.
_current = threading.local()


def _count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
    """Execute wrapper: add the query and its time to this thread's request, if one runs."""
    tally = getattr(_current, "tally", None)
    if tally is None:
        return execute(sql, params, many, context)
    start = perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        tally.seconds += perf_counter() - start
        tally.queries += 1


def _wrap(connection: Any, **kwargs: Any) -> None:
    """Give ``connection`` the counting wrapper unless it has it."""
    wrappers = connection.execute_wrappers
    if _count not in wrappers:
        # First, so it is the outermost, and so the append()/pop() of Django's
        # execute_wrapper() context manager never takes it off.
        wrappers.insert(0, _count)


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
        connection_created.connect(_wrap, dispatch_uid="monitoring.contrib.database")
        for connection in connections.all(initialized_only=True):
            _wrap(connection)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        tally = _Tally()
        outer = getattr(_current, "tally", None)  # a request made inside a request
        _current.tally = tally
        try:
            response = self.get_response(request)
        finally:
            _current.tally = outer
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
