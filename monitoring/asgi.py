"""Write the buffered points when an ASGI server shuts down, before it ends the process.

uvicorn (and gunicorn's uvicorn workers) end a process on ``SIGTERM`` by
finishing its requests, then raising the signal again with the default
handler: the process dies of it, so Python's ``atexit`` never runs, and
neither does the buffer's exit flush. What such a server does send first is
the ASGI lifespan ``shutdown`` event; Django's own ASGI application does not
take lifespan events, so this wraps it::

    # asgi.py
    from monitoring.asgi import get_asgi_application

    application = get_asgi_application()

or, around an application made otherwise, ``flush_on_shutdown(application)``.
The server must not turn lifespan events off (uvicorn's ``--lifespan auto``,
the default, or ``on``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async

__all__ = ["flush_on_shutdown", "get_asgi_application"]

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Any]


def _flush_at_shutdown() -> None:
    from django.db import connections

    from monitoring.storage import buffer

    try:
        buffer.flush_at_exit()
    finally:
        connections.close_all()  # this executor thread's own


def flush_on_shutdown(application: ASGIApp) -> ASGIApp:
    """Return ``application`` answering lifespan events itself: at shutdown, flush the buffer.

    Every other scope (``http``, ``websocket``) goes to ``application``
    unchanged. The flush is the exit flush (retries, spool, the message
    saying what was lost), run in a thread so the event loop stays free.
    """

    async def monitored(scope: dict, receive: Callable, send: Callable) -> Any:
        if scope["type"] != "lifespan":
            return await application(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await sync_to_async(_flush_at_shutdown, thread_sensitive=False)()
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    return monitored


def get_asgi_application() -> ASGIApp:
    """Return Django's ASGI application (``django.core.asgi``), flushed at shutdown."""
    from django.core.asgi import get_asgi_application as django_asgi_application

    return flush_on_shutdown(django_asgi_application())
