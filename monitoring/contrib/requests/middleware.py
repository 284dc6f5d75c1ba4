"""``MonitoringMiddleware``: count every request and time it, sync or async.

Put it first in ``MIDDLEWARE`` so its time covers the other middleware too::

    MIDDLEWARE = [
        "monitoring.contrib.requests.middleware.MonitoringMiddleware",
        ...
    ]

Per request it adds one point to ``requests`` (method and status class) and
one to ``request_latency`` (view name). The monitoring URLs themselves and
paths matching ``MONITORING_REQUESTS_SKIP`` are not recorded. Settings are
read when the middleware is built, once per process.
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
from monitoring.contrib.skip import require_app, skip_patterns, skipped

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
        self.requests, self.latency = _models()
        self.skip = skip_patterns()
        self.view_names = bool(conf.REQUESTS_VIEW_NAMES)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        start = perf_counter()
        response = self.get_response(request)
        self.record(request, response, start)
        return response

    async def __acall__(self, request: HttpRequest) -> Awaitable[HttpResponseBase]:
        start = perf_counter()
        response = await self.get_response(request)
        self.record(request, response, start)
        return response

    def record(self, request: HttpRequest, response: HttpResponseBase, start: float) -> None:
        """Add the request's points, unless it is skipped.

        The values are known to be valid (a method from METHODS, a status
        class, a URL name cut to the field's length), so they go straight to
        storage, without add()'s checks, which cost more than the rest of
        the middleware.
        """
        elapsed_ms = (perf_counter() - start) * 1000
        if skipped(request, self.skip):
            return
        method = request.method if request.method in METHODS else "other"
        match = request.resolver_match
        view = match.view_name[:200] if (self.view_names and match is not None) else ""
        now = time_ns()
        try:
            storage.record(
                self.requests, 1, now, (method, _CLASSES.get(response.status_code, "other"))
            )
            storage.record(self.latency, elapsed_ms, now, (view,))
        except Exception:
            # Monitoring never turns an answered request into an error.
            logger.exception("Could not record the request to %s.", request.path_info)
