import pytest
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import override_settings
from django.test.utils import isolate_apps

from monitoring import checks
from monitoring.models import IntegerCountBase
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


@pytest.mark.django_db
def test_w004_only_runs_against_databases_asked_for():
    assert checks.check_tables_exist(databases=None) == []
    assert checks.check_tables_exist(databases=["default"]) == []


def test_every_check_id_is_documented():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "checks.rst").read_text()
    for check_id in ["W001", "W002", "W003", "W004", "E001", "E002"]:
        assert f"monitoring.{check_id}" in text


def test_checks_are_registered():
    with override_settings(USE_TZ=False):
        assert "monitoring.W001" in ids(run_checks())
