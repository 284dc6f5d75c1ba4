"""Where a validated data point goes: the write buffer, raw rows and rollups.

This is the one seam between ``add()`` and the database: the models' ``add()``
calls :func:`record` (through ``buffer.add``) and nothing else. Charts read
the rollups through :mod:`monitoring.queries`; writer and reader share only
the tables and :mod:`monitoring.buckets`.

The storage controls users call are :func:`flush`, :func:`stats` and, for
scripts, :func:`flush_on_sigterm`; ``monitor.flush()`` and ``monitor.stats()``
re-export the first two.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

from monitoring.storage.buffer import Refused, buffer

if TYPE_CHECKING:
    from monitoring.models import MonitorBase

__all__ = [
    "Refused",
    "buffer",
    "connect",
    "flush",
    "flush_on_sigterm",
    "record",
    "record_points",
    "stats",
]


def record(model: type[MonitorBase], value: int | float, ns: int, dimensions: tuple | None) -> None:
    """Keep one already validated data point of ``model`` for the next flush.

    ``ns`` is the point's Unix time in nanoseconds; ``dimensions`` the
    cleaned values of the model's dimension fields, in field order. With
    ``MONITORING_BUFFER = False`` the point is written at once, in the
    caller's transaction, and a point the database refuses raises
    :class:`Refused`.
    """
    buffer.add(model, value, ns, dimensions)


def record_points(points: tuple[tuple, ...]) -> None:
    """Keep several validated points at once, each ``(model._point_key, value, ns, dimensions)``.

    The same as :func:`record` for each, in order, for one call's cost.
    """
    buffer.add_points(points)


def flush() -> int:
    """Write every buffered data point now; return how many were written.

    Inside a transaction on ``MONITORING_DATABASE`` nothing is written here
    (a rollback would lose the points): the background thread writes them on
    its own connection, and this returns 0.
    """
    return buffer.flush()


def stats() -> dict[str, Any]:
    """Return the buffer's counters; see :meth:`Buffer.stats`."""
    return buffer.stats()


def flush_on_sigterm() -> None:
    """Make SIGTERM flush the buffer before the process ends (opt-in, for scripts).

    Call it from the main thread. The handler flushes, then calls the handler
    that was installed before, or exits with status 143 as an unhandled
    SIGTERM would. Servers have their own shutdown hooks; see the storage docs.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("flush_on_sigterm() must be called from the main thread.")
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: Any) -> None:
        buffer.flush_at_exit()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


_connected = False


def connect() -> None:
    """Wire the buffer to the process's life: request ends, forks, exits.

    Called once by ``MonitoringConfig.ready()``; importing this package does none of it.
    """
    global _connected
    if _connected:
        return
    _connected = True
    import multiprocessing.util

    from django.core.signals import request_finished, setting_changed

    request_finished.connect(buffer.wake_at_request_end, dispatch_uid="monitoring.request_end")
    setting_changed.connect(buffer.settings_changed, dispatch_uid="monitoring.buffer.settings")
    os.register_at_fork(after_in_child=buffer.after_fork_in_child)
    atexit.register(buffer.flush_at_exit)
    # multiprocessing children end with os._exit(), which skips atexit: their
    # finalizers run instead. Registered after each fork, because a new child
    # clears the finalizers it inherited before it runs these hooks.
    multiprocessing.util.register_after_fork(buffer, _finalize_in_child)
    _finalize_in_child(buffer)


def _finalize_in_child(target: Any) -> None:
    import multiprocessing.util

    multiprocessing.util.Finalize(target, target.flush_at_exit, exitpriority=10)
