"""Record a Django project's own metrics from its code and chart them for staff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

__version__ = "0.1.0"

__all__ = ["annotate"]


def annotate(text: str, tags: Iterable[str] | None = None, at: dt.datetime | None = None) -> Any:
    """Mark an event on every chart and return its Annotation; see :mod:`monitoring.annotations`."""
    # Imported here: the package is imported before the apps are ready.
    from monitoring.annotations import annotate

    return annotate(text, tags=tags, at=at)
