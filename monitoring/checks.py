"""System checks. Each ID is documented in docs/checks.rst."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections, router
from django.db.migrations.loader import MigrationLoader
from django.urls import NoReverseMatch, reverse

from monitoring.conf import conf
from monitoring.register import monitor


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when USE_TZ is off and refuse settings of the wrong type."""
    messages = []
    if not settings.USE_TZ:
        messages.append(
            Warning(
                "USE_TZ is False, so monitoring stores naive local times and day buckets "
                "can be off around daylight saving changes.",
                hint="Set USE_TZ = True (the default for new projects).",
                id="monitoring.W001",
            )
        )
    if not isinstance(conf.BASE_TEMPLATE, str) or not conf.BASE_TEMPLATE:
        messages.append(
            Error(
                f"MONITORING_BASE_TEMPLATE must be a template name, got {conf.BASE_TEMPLATE!r}.",
                hint="Use a template that defines {% block main %}, e.g. 'base.html'.",
                id="monitoring.E001",
            )
        )
    days = conf.DEFAULT_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        messages.append(
            Error(
                f"MONITORING_DEFAULT_DAYS must be a whole number of days from 1 to 3660, "
                f"got {days!r}.",
                id="monitoring.E002",
            )
        )
    return messages


@register(Tags.urls)
def check_urls(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when the monitoring URLs are not included in the project's URLconf."""
    try:
        reverse("monitoring:dashboard")
    except NoReverseMatch:
        return [
            Warning(
                "The monitoring URLs are not included, so nobody can see the dashboard.",
                hint="Add path('monitoring/', include('monitoring.urls')) to your urlpatterns.",
                id="monitoring.W002",
            )
        ]
    return []


@register(Tags.models)
def check_models_migrated(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn about registered models that no migration creates.

    A warning, not an error: ``makemigrations`` runs this check before it writes one.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = loader.project_state()
    messages = []
    for handle in monitor:
        opts = handle.model._meta
        if (opts.app_label, opts.model_name) not in state.models:
            messages.append(
                Warning(
                    f"Monitor {handle.name!r} records into {opts.label}, "
                    f"which no migration creates.",
                    hint=f"Run: python manage.py makemigrations {opts.app_label}",
                    obj=handle.model,
                    id="monitoring.W003",
                )
            )
    return messages


@register(Tags.database)
def check_tables_exist(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    """Warn about registered models whose table is missing (``check --database``, ``migrate``).

    A warning, not an error: ``migrate`` runs this check before it creates the tables.
    """
    if not databases:
        return []
    messages = []
    tables: dict[str, set[str]] = {}
    for handle in monitor:
        alias = router.db_for_write(handle.model)
        if alias not in databases:
            continue
        if alias not in tables:
            try:
                with connections[alias].cursor() as cursor:
                    tables[alias] = set(connections[alias].introspection.table_names(cursor))
            except DatabaseError:
                # The database checks of Django itself report an unreachable database.
                tables[alias] = set()
                continue
        table = handle.model._meta.db_table
        if tables[alias] and table not in tables[alias]:
            messages.append(
                Warning(
                    f"Monitor {handle.name!r} records into {handle.model._meta.label}, "
                    f"but its table {table!r} does not exist in the database {alias!r}.",
                    hint="Run: python manage.py migrate",
                    obj=handle.model,
                    id="monitoring.W004",
                )
            )
    return messages
