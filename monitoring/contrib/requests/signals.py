"""Count unhandled exceptions through Django's ``got_request_exception`` signal.

Django sends it for every exception that becomes a 500 (not for ``Http404``
or ``PermissionDenied``), wherever it was raised: in a view or in any
middleware, under WSGI and ASGI. The receiver runs while Django handles the
exception, so ``sys.exc_info()`` holds it; should it ever be empty, the
class is recorded as ``"unknown"``.
"""

from __future__ import annotations

import sys
from typing import Any

from monitoring.contrib.requests.models import RequestException
from monitoring.contrib.safe import add_safely


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
    add_safely(RequestException, 1, exception=exception_name(sys.exc_info()[1]))
