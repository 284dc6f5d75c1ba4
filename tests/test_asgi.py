"""monitoring.asgi: the lifespan shutdown flushes the buffer; other scopes pass through."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.handlers.asgi import ASGIHandler

from monitoring.asgi import flush_on_shutdown, get_asgi_application
from monitoring.register import monitor
from test_app.models import MonitorUserCount


def run(application, scope, messages):
    """Run ``application`` on ``scope`` with ``messages`` to receive; return what it sent."""
    sent = []
    pending = list(messages)

    async def receive():
        return pending.pop(0)

    async def send(message):
        sent.append(message)

    async def main():
        return await application(scope, receive, send)

    return async_to_sync(main)(), sent


@pytest.mark.django_db(transaction=True)
def test_the_lifespan_shutdown_writes_the_buffered_points(buffered):
    sent = []
    written_at_shutdown = []

    async def receive():
        if not sent:
            return {"type": "lifespan.startup"}
        # Served between startup and shutdown: points the flusher has not written.
        for _ in range(3):
            monitor.get("user_count").add(1)
        written_at_shutdown.append(buffered.stats()["pending"])
        return {"type": "lifespan.shutdown"}

    async def send(message):
        sent.append(message)

    application = flush_on_shutdown(lambda scope, receive, send: None)
    async_to_sync(application)({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert written_at_shutdown == [3]
    assert MonitorUserCount.objects.count() == 3


def test_other_scopes_go_to_the_application_unchanged():
    calls = []

    async def application(scope, receive, send):
        calls.append(scope)
        return "answered"

    scope = {"type": "http", "path": "/"}
    assert run(flush_on_shutdown(application), scope, []) == ("answered", [])
    assert calls == [scope]


def test_get_asgi_application_wraps_django_s():
    application = get_asgi_application()
    assert application.__closure__ is not None
    inner = [cell.cell_contents for cell in application.__closure__]
    assert any(isinstance(value, ASGIHandler) for value in inner)
