"""The storage settings' checks (E003-E009, W005) and the router."""

import pytest
from django.core.checks import Error, Warning
from django.test import override_settings

from monitoring import checks
from monitoring.models import Rollup
from monitoring.router import MonitoringRouter
from test_app.models import MonitorOrderCount

SECOND_DB = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "monitoring": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
}


def ids(messages):
    return [message.id for message in messages]


def test_the_defaults_pass():
    assert checks.check_storage_settings() == []


@override_settings(MONITORING_DATABASE="elsewhere")
def test_e003_database_alias_must_exist():
    messages = checks.check_storage_settings()
    assert ids(messages) == ["monitoring.E003"]
    assert isinstance(messages[0], Error)
    assert "'elsewhere'" in messages[0].msg


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_e004_another_alias_needs_the_router():
    with override_settings(DATABASES=SECOND_DB, MONITORING_DATABASE="monitoring"):
        assert ids(checks.check_storage_settings()) == ["monitoring.E004"]
    with override_settings(
        DATABASES=SECOND_DB,
        MONITORING_DATABASE="monitoring",
        DATABASE_ROUTERS=["monitoring.router.MonitoringRouter"],
    ):
        assert checks.check_storage_settings() == []


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.parametrize(
    ("engine", "problems"),
    [
        ("django.db.backends.mysql", ["monitoring.E005"]),
        ("django.db.backends.oracle", ["monitoring.E005"]),
        ("django.contrib.gis.db.backends.postgis", []),
        ("django.db.backends.postgresql", []),
    ],
)
def test_e005_backend_must_be_sqlite_or_postgresql(engine, problems):
    with override_settings(DATABASES={"default": {"ENGINE": engine, "NAME": "x"}}):
        assert ids(checks.check_storage_settings()) == problems


@pytest.mark.parametrize(
    "settings",
    [
        {"MONITORING_BUFFER": "yes"},
        {"MONITORING_FLUSH_INTERVAL": 0},
        {"MONITORING_FLUSH_INTERVAL": "5"},
        {"MONITORING_BUFFER_WAIT": -1},
        {"MONITORING_BUFFER_WAIT": None},
    ],
)
def test_e006_buffer_switch_and_interval(settings):
    with override_settings(**settings):
        assert ids(checks.check_storage_settings()) == ["monitoring.E006"]


@pytest.mark.parametrize(
    "settings",
    [
        {"MONITORING_BUFFER_SIZE": 0},
        {"MONITORING_BUFFER_MAX": 1.5},
        {"MONITORING_BUFFER_SIZE": 10, "MONITORING_BUFFER_MAX": 5},
    ],
)
def test_e007_buffer_size_and_bound(settings):
    with override_settings(**settings):
        assert ids(checks.check_storage_settings()) == ["monitoring.E007"]


@pytest.mark.parametrize(
    "retention",
    [[30], {"raw": 0}, {"week": 3}, {"hour": "400"}, {"day": 1.5}],
)
def test_e008_retention(retention):
    with override_settings(MONITORING_RETENTION=retention):
        assert ids(checks.check_storage_settings()) == ["monitoring.E008"]


@override_settings(MONITORING_RETENTION={"minute": 30, "hour": 10})
def test_w005_finer_rollups_kept_longer_than_coarser():
    messages = checks.check_storage_settings()
    assert ids(messages) == ["monitoring.W005"]
    assert isinstance(messages[0], Warning)


@pytest.mark.parametrize(
    "settings",
    [{"MONITORING_PRUNE_INTERVAL": -1}, {"MONITORING_PRUNE_BATCH": 0}],
)
def test_e009_prune_interval_and_batch(settings):
    with override_settings(**settings):
        assert ids(checks.check_storage_settings()) == ["monitoring.E009"]


@override_settings(MONITORING_PRUNE_INTERVAL=None, MONITORING_RETENTION={"day": None})
def test_none_turns_prune_and_retention_off():
    assert checks.check_storage_settings() == []


# -- the router ----------------------------------------------------------------


@override_settings(MONITORING_DATABASE="monitoring")
def test_router_sends_monitoring_data_to_its_alias():
    router = MonitoringRouter()
    for model in (Rollup, MonitorOrderCount):
        assert router.db_for_read(model) == "monitoring"
        assert router.db_for_write(model) == "monitoring"
    from django.contrib.auth.models import User

    assert router.db_for_read(User) is None
    assert router.db_for_write(User) is None


@override_settings(MONITORING_DATABASE="monitoring")
def test_router_migrates_monitoring_tables_only_on_their_alias():
    router = MonitoringRouter()
    assert router.allow_migrate("monitoring", "monitoring", "rollup") is True
    assert router.allow_migrate("default", "monitoring", "rollup") is False
    assert router.allow_migrate("monitoring", "test_app", "monitorordercount") is True
    assert router.allow_migrate("default", "test_app", "monitorordercount") is False
    assert router.allow_migrate("default", "auth", "user") is None
    assert router.allow_migrate("default", "test_app", "gone") is None
    assert router.allow_migrate("default", "test_app") is None


@pytest.mark.django_db(transaction=True)
def test_w006_rollup_tables_missing():
    from django.db import connection

    assert checks.check_rollup_tables_exist(databases=["default"]) == []
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE monitoring_rollupbin RENAME TO monitoring_rollupbin_away")
    try:
        messages = checks.check_rollup_tables_exist(databases=["default"])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE monitoring_rollupbin_away RENAME TO monitoring_rollupbin")
    assert ids(messages) == ["monitoring.W006"]
    assert "'monitoring_rollupbin'" in messages[0].msg
    assert messages[0].hint == "Run: python manage.py migrate"
    assert checks.check_rollup_tables_exist(databases=None) == []


def test_e060_the_spool_must_be_a_directory_this_process_can_write(tmp_path):
    with override_settings(MONITORING_SPOOL_DIR=str(tmp_path / "new" / "spool")):
        assert checks.check_storage_settings() == []  # created at the first spooled exit
    (tmp_path / "file").write_text("")
    bad = [
        {"MONITORING_SPOOL_DIR": str(tmp_path / "file" / "spool")},
        {"MONITORING_SPOOL_DIR": 42},
        {"MONITORING_SPOOL_DIR": ""},
        {"MONITORING_SPOOL_DIR": str(tmp_path), "MONITORING_SPOOL_MAX": 0},
    ]
    for overrides in bad:
        with override_settings(**overrides):
            messages = checks.check_storage_settings()
            assert ids(messages) == ["monitoring.E060"], overrides
            assert "MONITORING_SPOOL" in messages[0].msg
