"""Where a validated data point goes: the write buffer, raw rows and rollups.

This is the one seam between ``add()`` and the database: the registry's
handles and the models' ``add()`` call :func:`record` and nothing else.
Charts read the rollups through :mod:`monitoring.queries`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitoring.storage.buffer import buffer

if TYPE_CHECKING:
    from monitoring.models import MonitorBase

__all__ = ["buffer", "flush", "record", "stats"]


def record(
    model: type[MonitorBase], value: int | float, at: datetime, dimensions: dict[str, Any]
) -> None:
    """Keep one already validated data point of ``model`` for the next flush.

    With ``MONITORING_BUFFER = False`` it is written at once instead. Never
    raise: a point that cannot be written stays buffered, one that does not
    fit in the buffer is counted as dropped.
    """
    buffer.add(model, value, at, dimensions)


def flush() -> int:
    """Write every buffered data point now; return how many were written."""
    return buffer.flush()


def stats() -> dict[str, Any]:
    """Return the buffer's counters; see :meth:`Buffer.stats`."""
    return buffer.stats()
