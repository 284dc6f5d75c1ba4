"""The WSGI and ASGI applications of test_app with tests/settings_server.py, for real servers.

gunicorn 'tests.server_app:wsgi()'
uvicorn --factory tests.server_app:asgi    (monitoring.asgi: flushed at shutdown)
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings_server")


def wsgi():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def asgi():
    from monitoring.asgi import get_asgi_application

    return get_asgi_application()


def asgi_without_flush():
    """Django's own ASGI application: what tests/test_server.py compares the flush with."""
    from django.core.asgi import get_asgi_application

    return get_asgi_application()
