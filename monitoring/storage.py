"""Where a validated data point is written.

This is the one seam between ``add()`` and the database: the registry's handles
and the models' ``add()`` call :func:`record` and nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitoring.models import MonitorBase


def record(
    model: type[MonitorBase], value: int | float, at: datetime, dimensions: dict[str, Any]
) -> None:
    """Write one already validated data point as a row of ``model``."""
    model._default_manager.create(value=value, created=at, **dimensions)
