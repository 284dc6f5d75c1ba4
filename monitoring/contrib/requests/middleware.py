"""``MonitoringMiddleware``: count every request and time it, sync or async.

Put it first in ``MIDDLEWARE`` so its time covers the other middleware too::

    MIDDLEWARE = [
        "monitoring.contrib.requests.middleware.MonitoringMiddleware",
        ...
    ]

Per request it adds one point to ``requests`` (method and status class) and
one to ``request_latency`` (view name). With ``QueryMiddleware`` in
``MIDDLEWARE`` too, it also counts the request's queries and their time
(``queries_per_request``, ``query_time_per_request``), sync or async, and
``QueryMiddleware`` steps out of the chain. The monitoring URLs themselves
and paths matching ``MONITORING_REQUESTS_SKIP`` are not recorded. Settings
are read when the middleware is built, once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from time import perf_counter, time_ns
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from monitoring import storage
from monitoring.conf import conf
from monitoring.contrib.database.tally import Tally, current
from monitoring.contrib.skip import (
    requests_middleware_counts_queries,
    require_app,
    skip_patterns,
    skipped,
)

__all__ = ["MonitoringMiddleware", "status_class"]

logger = logging.getLogger("monitoring.contrib.requests")

#: Methods recorded by name; any other method a client sends is recorded as "other",
#: so a client cannot grow the number of dimension values.
METHODS = frozenset(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])


#: The class of every valid HTTP status, looked up rather than formatted per request.
_CLASSES = {status: f"{status // 100}xx" for status in range(100, 600)}


def status_class(status: int) -> str:
    """Return the class of an HTTP status: ``"2xx"`` for 200 to 299, and so on."""
    return _CLASSES.get(status, "other")


def _models() -> tuple[Any, Any]:
    """Return the request monitors' models, or say which app to install."""
    require_app("monitoring.contrib.requests", "MonitoringMiddleware")
    from monitoring.contrib.requests.models import RequestCount, RequestLatency

    return RequestCount, RequestLatency


class MonitoringMiddleware:
    """Record each request's method, status class and latency; see the module docstring."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        requests, latency = _models()
        self.requests_key, self.latency_key = requests._point_key, latency._point_key
        self.skip = skip_patterns()
        self.view_names = bool(conf.REQUESTS_VIEW_NAMES)
        # Query counting, when it is switched on: QueryMiddleware then leaves it to us.
        self.count_queries = requests_middleware_counts_queries()
        if self.count_queries:
            from monitoring.contrib.database import middleware, tally

            queries, query_time = middleware.models()
            self.queries_key, self.query_time_key = queries._point_key, query_time._point_key
            tally.install()

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        if not self.count_queries:
            start = perf_counter()
            response = self.get_response(request)
            self.record(request, response, start, None)
            return response
        counted = Tally()
        token = current.set(counted)
        start = perf_counter()
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        self.record(request, response, start, counted)
        return response

    async def __acall__(self, request: HttpRequest) -> Awaitable[HttpResponseBase]:
        if not self.count_queries:
            start = perf_counter()
            response = await self.get_response(request)
            self.record(request, response, start, None)
            return response
        counted = Tally()
        token = current.set(counted)
        start = perf_counter()
        try:
            response = await self.get_response(request)
        finally:
            current.reset(token)
        self.record(request, response, start, counted)
        return response

    def record(
        self, request: HttpRequest, response: HttpResponseBase, start: float, counted: Tally | None
    ) -> None:
        """Add the request's points, unless it is skipped.

        The values are known to be valid (a method from METHODS, a status
        class, a URL name cut to the field's length), so they go straight to
        storage, without add()'s checks, which cost more than the rest of
        the middleware, in one call.
        """
        elapsed_ms = (perf_counter() - start) * 1000
        if skipped(request, self.skip):
            return
        method = request.method if request.method in METHODS else "other"
        match = request.resolver_match
        view = match.view_name[:200] if (self.view_names and match is not None) else ""
        now = time_ns()
        status = _CLASSES.get(response.status_code, "other")
        if counted is None:
            points = (
                (self.requests_key, 1, now, (method, status)),
                (self.latency_key, elapsed_ms, now, (view,)),
            )
        else:
            points = (
                (self.requests_key, 1, now, (method, status)),
                (self.latency_key, elapsed_ms, now, (view,)),
                (self.queries_key, counted.queries, now, None),
                (self.query_time_key, counted.seconds * 1000, now, None),
            )
        try:
            storage.record_points(points)
        except Exception:
            # Monitoring never turns an answered request into an error.
            logger.exception("Could not record the request to %s.", request.path_info)
