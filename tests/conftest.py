import copy
import os

import pytest

from monitoring.register import monitor
from tests.factories import StaffFactory, UserFactory

# Playwright's sync API runs an event loop in the test's thread; the ORM calls around it
# are still synchronous, so Django's async-safety check must not refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_configure(config):
    """Build jQuery and uPlot from npm when they are missing: the dashboard serves them."""
    from build_assets import ensure_vendor

    try:
        ensure_vendor()
    except SystemExit as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(autouse=True)
def _restore_registry():
    """Give every test the registry as autodiscovery left it, whatever the test changes."""
    saved = copy.copy(monitor._registry)
    yield
    monitor._registry = saved


@pytest.fixture
def staff_user(db):
    return StaffFactory()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def user_client(client, db):
    client.force_login(UserFactory())
    return client
