"""monitoring.contrib.auth: logins, failed logins, logouts and sign-ups through Django's signals."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from monitoring.contrib.auth.models import FailedLoginCount, LoginCount, LogoutCount, SignupCount
from monitoring.register import monitor
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def totals():
    return {
        model.__name__: sum(row.value for row in model.objects.all())
        for model in (LoginCount, FailedLoginCount, LogoutCount, SignupCount)
    }


def test_a_new_user_is_a_sign_up():
    UserFactory()
    user = get_user_model().objects.get()
    user.save()  # an update is not a sign-up
    assert totals()["SignupCount"] == 1


def test_login_and_logout_through_the_login_form(client):
    StaffFactory(username="ada")
    response = client.post("/admin/login/", {"username": "ada", "password": "password"})
    assert response.status_code == 302
    client.logout()
    client.logout()  # already anonymous: nobody logged out
    assert totals() == {"LoginCount": 1, "FailedLoginCount": 0, "LogoutCount": 1, "SignupCount": 1}


def test_a_failed_login_is_counted_and_the_username_is_not_stored(client):
    UserFactory(username="ada")
    assert authenticate(username="ada", password="wrong") is None
    client.post("/admin/login/", {"username": "mallory", "password": "guess"})
    assert totals()["FailedLoginCount"] == 2
    stored = [field.name for field in FailedLoginCount._meta.get_fields()]
    assert stored == ["id", "created", "value"]


def test_users_loaded_from_a_fixture_are_not_sign_ups(tmp_path):
    fixture = tmp_path / "users.json"
    fixture.write_text(
        json.dumps(
            [{"model": "auth.user", "pk": 99, "fields": {"username": "loaded", "password": "!"}}]
        )
    )
    call_command("loaddata", str(fixture), verbosity=0)
    assert get_user_model().objects.filter(username="loaded").exists()
    assert totals()["SignupCount"] == 0


def test_the_monitors_are_in_their_own_category():
    names = [handle.name for handle in monitor if handle.category == "Accounts"]
    assert names == ["logins", "failed_logins", "logouts", "signups"]


def test_a_login_works_even_when_monitoring_cannot_record_it(client, monkeypatch, caplog):
    StaffFactory(username="ada")

    def refuse(*args, **kwargs):
        raise RuntimeError("no table")

    monkeypatch.setattr(LoginCount, "add", refuse)
    response = client.post("/admin/login/", {"username": "ada", "password": "password"})
    assert response.status_code == 302
    assert "Could not add a point to monitoring_auth.LoginCount" in caplog.text


CUSTOM_USER_SCRIPT = """
import django
django.setup()
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
call_command("migrate", verbosity=0)
from monitoring.contrib.auth.models import FailedLoginCount, LoginCount, SignupCount

User = get_user_model()
assert User._meta.label == "custom_user.Account", User
User.objects.create_user("ada", password="pw", is_staff=True)
assert authenticate(username="ada", password="nope") is None
client = Client()
assert client.post("/admin/login/", {"username": "ada", "password": "pw"}).status_code == 302
print(SignupCount.objects.count(), LoginCount.objects.count(), FailedLoginCount.objects.count())
"""


@pytest.mark.slow
def test_the_auth_monitors_follow_a_custom_user_model(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.custom_user.settings",
        "MONITORING_SQLITE_NAME": str(tmp_path / "custom_user.sqlite3"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("MONITORING_TEST_DB", None)
    result = subprocess.run(
        [sys.executable, "-c", CUSTOM_USER_SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["1", "1", "1"]
