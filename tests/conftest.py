import copy

import pytest

from monitoring.register import monitor
from tests.factories import StaffFactory, UserFactory


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
