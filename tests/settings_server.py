"""test_app's settings for a real server (gunicorn, uvicorn) in the heavy tests and bench/load.py.

The database comes from the environment as for test_app (worker_env()); the
write buffer is on, as in production, with the flush interval of
MONITORING_TEST_FLUSH_INTERVAL (seconds, default 1).
"""

import os

from test_app.settings import *  # noqa: F403 - the same project, served

DEBUG = False
ROOT_URLCONF = "tests.urls_server"
MONITORING_BUFFER = True
MONITORING_FLUSH_INTERVAL = float(os.environ.get("MONITORING_TEST_FLUSH_INTERVAL", "1"))
MONITORING_SPOOL_DIR = os.environ.get("MONITORING_TEST_SPOOL_DIR") or None
# The readiness probe and the load generators' drain (bench/load.py) are not requests
# to count: the request monitor's total then equals the answered requests of the load.
MONITORING_REQUESTS_SKIP = ["/load/plain/"]
# The baseline of bench/load.py: the same project without monitoring's middleware, and
# the load views add nothing (tests/urls_server.py).
LOAD_BARE = os.environ.get("MONITORING_TEST_BARE") == "1"
if LOAD_BARE:
    MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("monitoring.")]  # noqa: F405
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"monitoring": {"handlers": ["stderr"], "level": "INFO"}},
}
