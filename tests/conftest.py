import copy

import pytest
from django.db.models.signals import post_save
from django.test import override_settings
from factory.django import mute_signals

from monitoring.register import monitor
from tests.factories import StaffFactory, UserFactory


@pytest.fixture(autouse=True, scope="session")
def _write_synchronously():
    """Write each data point inside add(), so tests read what they added.

    Tests of the buffer turn it back on (see tests/test_storage.py).
    """
    with override_settings(MONITORING_BUFFER=False):
        yield


@pytest.fixture(autouse=True)
def _restore_registry():
    """Give every test the registry as autodiscovery left it, whatever the test changes."""
    saved = copy.copy(monitor._registry)
    yield
    monitor._registry = saved


@pytest.fixture
def staff_user(db):
    """Return an active staff user, not counted by test_app's user_count monitor.

    Rollups are not touched by deleting raw rows, so a user counted here
    would stay in every chart of the test.
    """
    with mute_signals(post_save):
        return StaffFactory()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def user_client(client, db):
    with mute_signals(post_save):
        user = UserFactory()
    client.force_login(user)
    return client
