"""test_app's settings with AUTH_USER_MODEL swapped for tests.custom_user.Account."""

from test_app.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_user"]  # noqa: F405
AUTH_USER_MODEL = "custom_user.Account"
# Written inside add(), so the test reads what it added.
MONITORING_BUFFER = False
