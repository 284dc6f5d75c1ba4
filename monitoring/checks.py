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


# -- dashboard (monitoring.E010-E019, monitoring.W010-W019) -------------------------

#: The blocks the dashboard fills: where it goes, its stylesheets, its scripts.
DASHBOARD_BLOCKS = ("main", "monitoring_head", "monitoring_scripts")


def _template_blocks(name: str, seen: tuple[str, ...] = ()) -> set[str] | None:
    """Return the block names template ``name`` and its parents define.

    Return None when that can't be known: not a Django template, or a parent
    chosen at render time.
    """
    from django.template.loader import get_template
    from django.template.loader_tags import BlockNode, ExtendsNode

    inner = getattr(get_template(name), "template", None)
    if inner is None or not hasattr(inner, "nodelist"):
        return None
    blocks = {node.name for node in inner.nodelist.get_nodes_by_type(BlockNode)}
    for node in inner.nodelist.get_nodes_by_type(ExtendsNode):
        parent = node.parent_name.var
        if not isinstance(parent, str) or parent in seen:
            return None
        parent_blocks = _template_blocks(parent, (*seen, name))
        if parent_blocks is None:
            return None
        blocks |= parent_blocks
    return blocks


@register(Tags.templates)
def check_dashboard_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse dashboard settings the dashboard cannot use, and base templates it can't fill."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError

    from monitoring.views import RANGES

    messages = []
    permission = conf.PERMISSION
    if permission is not None and not (
        isinstance(permission, str) and permission.count(".") == 1 and all(permission.split("."))
    ):
        messages.append(
            Error(
                f"MONITORING_PERMISSION must be None or a permission name 'app_label.codename', "
                f"got {permission!r}.",
                hint="For example 'myapp.view_monitoring', as user.has_perm() takes it.",
                id="monitoring.E010",
            )
        )
    if conf.DEFAULT_RANGE not in RANGES:
        messages.append(
            Error(
                f"MONITORING_DEFAULT_RANGE must be one of {', '.join(RANGES)}, "
                f"got {conf.DEFAULT_RANGE!r}.",
                id="monitoring.E011",
            )
        )
    name = conf.BASE_TEMPLATE
    if isinstance(name, str) and name:
        try:
            blocks = _template_blocks(name)
        except TemplateDoesNotExist:
            messages.append(
                Error(
                    f"MONITORING_BASE_TEMPLATE names {name!r}, which no template loader finds.",
                    hint="Check the name and TEMPLATES['DIRS'], or leave the setting out.",
                    id="monitoring.E012",
                )
            )
        except TemplateSyntaxError as exc:
            messages.append(
                Error(
                    f"MONITORING_BASE_TEMPLATE {name!r} does not compile: {exc}",
                    id="monitoring.E012",
                )
            )
        else:
            if blocks is not None and "main" not in blocks:
                messages.append(
                    Error(
                        f"MONITORING_BASE_TEMPLATE {name!r} has no {{% block main %}}, "
                        f"so the dashboard would be blank.",
                        hint="Add {% block main %}{% endblock %} where the page content goes.",
                        id="monitoring.E013",
                    )
                )
            missing = [b for b in DASHBOARD_BLOCKS[1:] if blocks is not None and b not in blocks]
            if missing:
                messages.append(
                    Warning(
                        f"MONITORING_BASE_TEMPLATE {name!r} has no "
                        f"{' or '.join(f'{{% block {b} %}}' for b in missing)}, so the dashboard "
                        f"loses its stylesheets or scripts and draws no charts.",
                        hint="Put {% block monitoring_head %}{% endblock %} in <head> and "
                        "{% block monitoring_scripts %}{% endblock %} before </body>.",
                        id="monitoring.W011",
                    )
                )
    return messages


@register(Tags.models)
def check_dimension_names(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn about dimensions the dashboard cannot filter by: named like its own parameters."""
    from monitoring.views import RESERVED_PARAMETERS

    messages = []
    for handle in monitor:
        for dimension in handle.model.dimension_names():
            if dimension in RESERVED_PARAMETERS:
                messages.append(
                    Warning(
                        f"Monitor {handle.name!r} has a dimension {dimension!r}, which is also "
                        f"a query parameter of its view, so ?{dimension}= cannot filter by it.",
                        hint=f"Rename the field; the view's own parameters are "
                        f"{', '.join(RESERVED_PARAMETERS)}.",
                        obj=handle.model,
                        id="monitoring.W010",
                    )
                )
    return messages
