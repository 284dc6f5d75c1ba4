from io import StringIO

import pytest
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import override_settings
from django.test.utils import isolate_apps
from django.urls import reverse_lazy

from monitoring import checks
from monitoring.models import IntegerCountBase, Rollup
from monitoring.register import monitor
from monitoring.views import IntegerCountView


def ids(messages):
    return [message.id for message in messages]


def test_the_test_project_passes_every_check(db):
    call_command("check", "--database", "default", "--fail-level", "WARNING")


@override_settings(USE_TZ=False)
def test_w001_use_tz_off():
    messages = checks.check_settings()
    assert ids(messages) == ["monitoring.W001"]
    assert isinstance(messages[0], Warning)


@override_settings(MONITORING_BASE_TEMPLATE="")
def test_e001_base_template_must_be_a_name():
    messages = checks.check_settings()
    assert ids(messages) == ["monitoring.E001"]
    assert isinstance(messages[0], Error)


def test_e001_fails_the_check_command():
    with override_settings(MONITORING_BASE_TEMPLATE=None), pytest.raises(SystemCheckError):
        call_command("check")


@override_settings(ROOT_URLCONF="tests.urls_without_monitoring")
def test_w002_urls_not_included():
    assert ids(checks.check_urls()) == ["monitoring.W002"]


def test_urls_included():
    assert checks.check_urls() == []


@isolate_apps("test_app")
def test_w003_registered_model_without_migration():
    class MonitorUnmigrated(IntegerCountBase):
        class Meta:
            app_label = "test_app"

    monitor.register("unmigrated", IntegerCountView.as_view(model=MonitorUnmigrated))
    messages = checks.check_models_migrated()
    assert ids(messages) == ["monitoring.W003"]
    assert "makemigrations test_app" in messages[0].hint


@pytest.mark.django_db
@isolate_apps("test_app")
def test_w003_is_silent_while_makemigrations_runs():
    class MonitorUnmigrated(IntegerCountBase):
        class Meta:
            app_label = "test_app"

    monitor.register("unmigrated", IntegerCountView.as_view(model=MonitorUnmigrated))
    err = StringIO()
    call_command("check", stderr=err)
    assert "monitoring.W003" in err.getvalue()
    # It says "Run: python manage.py makemigrations test_app": not while that runs.
    err = StringIO()
    call_command("makemigrations", "test_app", dry_run=True, skip_checks=False, stdout=StringIO(),
                 stderr=err)  # fmt: skip
    assert "monitoring.W003" not in err.getvalue()


def test_w003_silent_when_every_model_is_migrated():
    assert checks.check_models_migrated() == []


@pytest.mark.django_db(transaction=True)
def test_w004_registered_model_without_table():
    model = monitor.get("user_count").model
    with connection.schema_editor() as editor:
        editor.delete_model(model)
    try:
        messages = checks.check_tables_exist(databases=["default"])
        assert ids(messages) == ["monitoring.W004"]
        assert model._meta.db_table in messages[0].msg
    finally:
        with connection.schema_editor() as editor:
            editor.create_model(model)


@pytest.mark.django_db(transaction=True)
def test_w004_and_w006_are_silent_while_migrate_runs():
    model = monitor.get("user_count").model
    with connection.schema_editor() as editor:
        editor.delete_model(model)
        editor.delete_model(Rollup)
    try:
        err = StringIO()
        call_command("check", "--database", "default", stderr=err)
        assert "monitoring.W004" in err.getvalue()
        assert "monitoring.W006" in err.getvalue()
        # Both say "Run: python manage.py migrate": not while that runs.
        err = StringIO()
        call_command("migrate", skip_checks=False, verbosity=0, stdout=StringIO(), stderr=err)
        assert "monitoring.W004" not in err.getvalue()
        assert "monitoring.W006" not in err.getvalue()
    finally:
        with connection.schema_editor() as editor:
            editor.create_model(model)
            editor.create_model(Rollup)


@pytest.mark.django_db
def test_w004_only_runs_against_databases_asked_for():
    assert checks.check_tables_exist(databases=None) == []
    assert checks.check_tables_exist(databases=["default"]) == []


@pytest.mark.parametrize(
    "login_url",
    [
        "admin:login",
        "/admin/login/",
        reverse_lazy("admin:login"),
        "https://sso.example.com/login/",
        "//sso.example.com/login/",
    ],
)
def test_w007_silent_when_login_url_leads_somewhere(login_url):
    with override_settings(LOGIN_URL=login_url):
        assert checks.check_login_url() == []


@pytest.mark.parametrize(
    "login_url", ["/accounts/login/", "accounts:login", "admin:nope", reverse_lazy("nope"), None]
)
def test_w007_login_url_does_not_resolve(login_url):
    with override_settings(LOGIN_URL=login_url):
        messages = checks.check_login_url()
    assert ids(messages) == ["monitoring.W007"]
    assert isinstance(messages[0], Warning)
    assert 'LOGIN_URL = "admin:login"' in messages[0].hint


@override_settings(ROOT_URLCONF="tests.urls_i18n", LOGIN_URL="/login/")
def test_w007_follows_i18n_patterns():
    # LocaleMiddleware sends /login/ on to /en-us/login/.
    assert checks.check_login_url() == []
    with override_settings(LOGIN_URL="/logout/"):
        assert ids(checks.check_login_url()) == ["monitoring.W007"]


@override_settings(LOGIN_URL="/accounts/login/")
def test_w007_is_reported_by_the_check_command():
    err = StringIO()
    call_command("check", stderr=err)
    assert "monitoring.W007" in err.getvalue()


@override_settings(ROOT_URLCONF="tests.urls_without_monitoring", LOGIN_URL="/accounts/login/")
def test_w007_silent_when_the_dashboard_is_not_reachable():
    assert checks.check_login_url() == []


def test_every_check_id_is_documented():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "checks.rst").read_text()
    for check_id in ["W001", "W002", "W003", "W004", "W007", "E001", "E002"]:
        assert f"monitoring.{check_id}" in text


def test_checks_are_registered():
    with override_settings(USE_TZ=False):
        assert "monitoring.W001" in ids(run_checks())


@pytest.mark.parametrize(
    "setting, value, check_id",
    [
        ("MONITORING_JOBS", "false", "monitoring.E080"),
        ("MONITORING_JOBS", 0, "monitoring.E080"),
        ("MONITORING_SITE_URL", None, "monitoring.E081"),
        ("MONITORING_SITE_URL", b"https://example.com", "monitoring.E081"),
    ],
)
def test_jobs_and_site_url_settings_of_the_wrong_type_are_errors(setting, value, check_id):
    from monitoring.checks import check_jobs_and_site_url

    assert ids(check_jobs_and_site_url()) == []
    with override_settings(**{setting: value}):
        assert ids(check_jobs_and_site_url()) == [check_id]
        assert check_id in ids(run_checks())
