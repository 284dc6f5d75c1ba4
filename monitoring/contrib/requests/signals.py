"""Count unhandled exceptions through Django's ``got_request_exception`` signal.

Django sends it for every exception that becomes a 500 (not for ``Http404``
or ``PermissionDenied``), wherever it was raised: in a view or in any
middleware. The receiver runs inside Django's ``except`` block, so
``sys.exc_info()`` holds the exception; where it does not (async handlers
call the signal from another thread), the class is recorded as ``"unknown"``.
"""

from __future__ import annotations

import sys
from typing import Any

from monitoring.contrib.requests.models import RequestException


def exception_name(exc: BaseException | None) -> str:
    """Return ``module.QualName`` of an exception's class, or ``"unknown"``."""
    if exc is None:
        return "unknown"
    kind = type(exc)
    module = kind.__module__
    name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    return name[:200]


def count_exception(sender: Any, request: Any = None, **kwargs: Any) -> None:
    """Add one point to ``request_exceptions`` for the exception being handled."""
    RequestException.add(1, exception=exception_name(sys.exc_info()[1]))
