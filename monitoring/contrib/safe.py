"""Add points from signal receivers without ever raising into the code that sent the signal.

A login, a request or a task must not fail because monitoring could not
record it: an unexpected error is logged on ``monitoring.contrib`` instead.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("monitoring.contrib")


def add_safely(model: Any, value: int | float, **dimensions: Any) -> None:
    """Call ``model.add(value, **dimensions)``; log whatever it raises instead of raising it."""
    try:
        model.add(value, **dimensions)
    except Exception:
        logger.exception("Could not add a point to %s.", model._meta.label)
