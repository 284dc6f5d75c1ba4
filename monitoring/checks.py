"""System checks. Each ID is documented in docs/checks.rst."""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections, router
from django.db.migrations.loader import MigrationLoader
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse
from django.utils.functional import Promise

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


def _running_command(name: str) -> bool:
    """Return True if the management command ``name`` (or a subclass of it) runs these checks.

    Django tells a check nothing about who runs it, but the command object is
    on the call stack (``BaseCommand.check()`` runs the checks), whether it
    came from ``manage.py`` or from ``call_command()``. A check uses this so
    as not to tell people to run the very command that is printing it.
    """
    command = import_module(f"django.core.management.commands.{name}").Command
    frame = sys._getframe(1)
    while frame is not None:
        if isinstance(frame.f_locals.get("self"), command):
            return True
        frame = frame.f_back
    return False


def _resolves(path: str) -> bool:
    """Return True if the URL path ``path`` matches a pattern of ROOT_URLCONF."""
    prefix = get_script_prefix()
    if prefix != "/" and path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    try:
        resolve(path)
    except Resolver404:
        # i18n_patterns: LocaleMiddleware redirects /login/ to /en/login/.
        try:
            resolve(f"/{settings.LANGUAGE_CODE}{path}")
        except Resolver404:
            return False
    return True


@register(Tags.urls)
def check_login_url(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn when LOGIN_URL leads nowhere, so anonymous visitors of the dashboard get a 404."""
    try:
        reverse("monitoring:dashboard")
    except NoReverseMatch:
        return []  # nobody reaches the dashboard to be sent anywhere; W002 says so
    try:
        url = str(resolve_url(settings.LOGIN_URL))
    except (NoReverseMatch, TypeError):  # TypeError: LOGIN_URL = None
        url = None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or _resolves(parts.path or "/"):
            return []  # another site logs people in, or a view of this one does
    # The repr of a reverse_lazy() that finds nothing would raise NoReverseMatch.
    lazy = isinstance(settings.LOGIN_URL, Promise)
    shown = "a reverse_lazy() URL" if lazy else repr(settings.LOGIN_URL)
    return [
        Warning(
            f"LOGIN_URL ({shown}) does not resolve, so visitors of the "
            f"dashboard who are not logged in are sent to a page that does not exist.",
            hint=(
                'Set LOGIN_URL = "admin:login" to use the admin\'s login page, or include '
                'a login view, e.g. path("accounts/", include("django.contrib.auth.urls")).'
            ),
            id="monitoring.W007",
        )
    ]


@register(Tags.models)
def check_models_migrated(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn about registered models that no migration creates.

    A warning, not an error, and silent while ``makemigrations`` runs: that
    command runs the checks before it writes the missing migration.
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
    if messages and _running_command("makemigrations"):
        return []
    return messages


@register(Tags.database)
def check_tables_exist(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    """Warn about registered models whose table is missing (``check --database``).

    A warning, not an error, and silent while ``migrate`` runs: that command
    runs the checks before it creates the tables.
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
    if messages and _running_command("migrate"):
        return []
    return messages


def _positive_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def _positive_int(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value > 0


def _vendor(engine: str) -> str:
    """Return the vendor of a database ENGINE, read from its dotted path (no connection)."""
    if "sqlite" in engine:
        return "sqlite"
    if "postg" in engine:  # postgresql, postgis and wrappers of them
        return "postgresql"
    return engine.rsplit(".", 1)[-1] or "unknown"


def _router_installed() -> bool:
    from monitoring.router import MonitoringRouter

    for entry in settings.DATABASE_ROUTERS:
        if entry == "monitoring.router.MonitoringRouter" or isinstance(entry, MonitoringRouter):
            return True
        if isinstance(entry, type) and issubclass(entry, MonitoringRouter):
            return True
        if isinstance(entry, str) and entry.endswith(".MonitoringRouter"):
            return True
    return False


@register()
def check_storage_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse storage settings that would lose data or fail at the first flush."""
    from monitoring.storage.writer import SUPPORTED_VENDORS

    messages = []
    alias = conf.DATABASE
    if alias not in settings.DATABASES:
        messages.append(
            Error(
                f"MONITORING_DATABASE is {alias!r}, which is not a key of DATABASES.",
                hint=f"Use one of: {', '.join(map(repr, settings.DATABASES))}.",
                id="monitoring.E003",
            )
        )
    else:
        if alias != "default" and not _router_installed():
            messages.append(
                Error(
                    f"MONITORING_DATABASE is {alias!r}, but monitoring's router is not in "
                    f"DATABASE_ROUTERS, so migrations and your own queries of monitor models "
                    f"would use another database.",
                    hint='Add "monitoring.router.MonitoringRouter" to DATABASE_ROUTERS.',
                    id="monitoring.E004",
                )
            )
        vendor = _vendor(settings.DATABASES[alias].get("ENGINE", ""))
        if vendor not in SUPPORTED_VENDORS:
            messages.append(
                Error(
                    f"MONITORING_DATABASE {alias!r} is a {vendor} database; monitoring's "
                    f"rollup upserts need SQLite (3.24+) or PostgreSQL.",
                    hint="Point MONITORING_DATABASE at a SQLite or PostgreSQL alias.",
                    id="monitoring.E005",
                )
            )
    wait = conf.BUFFER_WAIT
    wait_ok = isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait >= 0
    interval_ok = _positive_number(conf.FLUSH_INTERVAL)
    if not isinstance(conf.BUFFER, bool) or not interval_ok or not wait_ok:
        messages.append(
            Error(
                f"MONITORING_BUFFER must be True or False, MONITORING_FLUSH_INTERVAL a "
                f"positive number of seconds and MONITORING_BUFFER_WAIT a number of seconds "
                f"from 0; got {conf.BUFFER!r}, {conf.FLUSH_INTERVAL!r} and {wait!r}.",
                id="monitoring.E006",
            )
        )
    size, maximum = conf.BUFFER_SIZE, conf.BUFFER_MAX
    if not (_positive_int(size) and _positive_int(maximum) and size <= maximum):
        messages.append(
            Error(
                f"MONITORING_BUFFER_SIZE and MONITORING_BUFFER_MAX must be whole numbers "
                f"above 0 with SIZE <= MAX; got {size!r} and {maximum!r}.",
                id="monitoring.E007",
            )
        )
    retention = conf.RETENTION
    known = {"raw", "minute", "hour", "day"}
    if (
        not isinstance(retention, dict)
        or set(retention) - known
        or not all(days is None or _positive_int(days) for days in retention.values())
    ):
        messages.append(
            Error(
                f"MONITORING_RETENTION must map 'raw', 'minute', 'hour' and 'day' to a whole "
                f"number of days above 0 or None (forever); got {retention!r}.",
                id="monitoring.E008",
            )
        )
    else:
        forever = float("inf")
        days = [
            forever if retention[k] is None else retention[k] for k in ("minute", "hour", "day")
        ]
        if not days[0] <= days[1] <= days[2]:
            messages.append(
                Warning(
                    f"MONITORING_RETENTION keeps finer rollups longer than coarser ones "
                    f"(minute {retention['minute']}, hour {retention['hour']}, day "
                    f"{retention['day']} days), so old ranges have minute or hour buckets "
                    f"but no day buckets.",
                    hint="Keep minute <= hour <= day (None is forever).",
                    id="monitoring.W005",
                )
            )
    interval, batch = conf.PRUNE_INTERVAL, conf.PRUNE_BATCH
    if not (interval is None or _positive_number(interval)) or not _positive_int(batch):
        messages.append(
            Error(
                f"MONITORING_PRUNE_INTERVAL must be None or a positive number of seconds and "
                f"MONITORING_PRUNE_BATCH a whole number above 0; got {interval!r} and {batch!r}.",
                id="monitoring.E009",
            )
        )
    messages.extend(_check_spool())
    return messages


def _check_spool() -> list:
    """Refuse a spool the exit flush could not write to: it would lose the points it promises."""
    import os

    directory, maximum = conf.SPOOL_DIR, conf.SPOOL_MAX
    problem = None
    if not _positive_int(maximum):
        problem = f"MONITORING_SPOOL_MAX must be a whole number above 0; got {maximum!r}."
    elif directory is None:
        return []
    elif not isinstance(directory, (str, os.PathLike)) or not str(directory):
        problem = f"MONITORING_SPOOL_DIR must be None or a directory path; got {directory!r}."
    else:
        # The directory is created at the first spooled exit; its nearest existing
        # ancestor must let this process do that.
        path = os.path.abspath(os.fspath(directory))
        existing = path
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing) or not os.access(existing, os.W_OK | os.X_OK):
            problem = (
                f"MONITORING_SPOOL_DIR is {path!r}, but {existing!r} is not a directory "
                f"this process can write to."
            )
    if problem is None:
        return []
    return [
        Error(
            problem,
            hint="An exit during a database outage would lose its points instead of "
            "spooling them; see the guarantees page of the docs.",
            id="monitoring.E060",
        )
    ]


@register(Tags.database)
def check_rollup_tables_exist(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list:
    """Warn when the rollup tables are missing from MONITORING_DATABASE (``check --database``)."""
    from monitoring.models import Rollup, RollupBin

    alias = conf.DATABASE
    if not databases or alias not in databases or alias not in settings.DATABASES:
        return []
    try:
        with connections[alias].cursor() as cursor:
            tables = set(connections[alias].introspection.table_names(cursor))
    except DatabaseError:
        return []  # Django's own database checks report an unreachable database
    missing = [m._meta.db_table for m in (Rollup, RollupBin) if m._meta.db_table not in tables]
    if not missing or _running_command("migrate"):
        return []  # migrate runs the checks before it creates the tables
    migrate = "python manage.py migrate" + ("" if alias == "default" else f" --database {alias}")
    return [
        Warning(
            f"Monitoring's rollup tables {', '.join(map(repr, missing))} do not exist in the "
            f"database {alias!r} (MONITORING_DATABASE), so no data point can be written.",
            hint=f"Run: {migrate}",
            id="monitoring.W006",
        )
    ]


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

    from monitoring.forms import RANGES

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
    from monitoring.forms import RESERVED_PARAMETERS

    messages = []
    for handle in monitor:
        for dimension in handle.dimension_names():
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


@register()
def check_metrics_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse a metrics endpoint that cannot answer: a bad token or no prometheus_client."""
    errors = []
    token = conf.METRICS_TOKEN
    if token is not None and (not isinstance(token, str) or not token.strip()):
        errors.append(
            Error(
                f"MONITORING_METRICS_TOKEN must be a non-empty string or None, not {token!r}.",
                hint="Set it to a long random string, e.g. from secrets.token_urlsafe(32).",
                id="monitoring.E021",
            )
        )
    if token or conf.METRICS_STAFF:
        errors.extend(_metric_name_clashes())
        try:
            import prometheus_client  # noqa: F401
        except ImportError:
            errors.append(
                Error(
                    "The metrics endpoint is on (MONITORING_METRICS_TOKEN or "
                    "MONITORING_METRICS_STAFF), but prometheus_client is not installed.",
                    hint="pip install django-monitoring[prometheus]",
                    id="monitoring.E020",
                )
            )
    return errors


def _metric_name_clashes() -> list:
    from monitoring.metrics import split_clashes

    return [
        Warning(
            f"Monitors {clash!r} and {handle.name!r} export the same Prometheus metric "
            f"names, so /monitoring/metrics leaves {handle.name!r} out.",
            hint="Rename one of them: hyphens and underscores count as the same, and "
            "a count 'x' exports 'x_total'.",
            id="monitoring.W022",
        )
        for handle, clash in split_clashes(monitor)[1]
    ]


def _leading_index(model: Any, field: Any) -> bool:
    """Return True if an index of ``model`` starts with ``field``'s column."""
    if field.db_index or field.unique or field.primary_key:
        return True
    opts = model._meta
    for index in opts.indexes:
        if index.fields and index.fields[0].lstrip("-") == field.name:
            return True
    for constraint in opts.constraints:
        fields = getattr(constraint, "fields", None)
        if fields and fields[0] == field.name:
            return True
    return any(together and together[0] == field.name for together in opts.unique_together)


@register(Tags.models)
def check_table_indexes(app_configs: Any = None, **kwargs: Any) -> list:
    """Warn about charts of existing tables whose date field has no index.

    Every chart of such a monitor filters the table by a range of that field;
    without an index that starts with it, each chart reads the whole table.
    """
    messages = []
    for handle in monitor:
        if handle.stored:
            continue
        model = handle.model
        field = model._meta.get_field(handle.date_field)
        if _leading_index(model, field):
            continue
        table = model._meta.db_table
        messages.append(
            Warning(
                f"Monitor {handle.name!r} charts {model._meta.label} by "
                f"{handle.date_field!r}, which has no index: each chart reads the whole "
                f"table {table!r}.",
                hint=(
                    f"Give the field db_index=True or an index that starts with it, e.g. "
                    f"models.Index(fields=[{handle.date_field!r}]) in Meta.indexes; for a "
                    f"model you don't own, create it in a migration of your own app: "
                    f"CREATE INDEX {table}_{field.column}_idx ON {table} ({field.column}). "
                    f"See 'Charts of existing tables' in the docs."
                ),
                obj=model,
                id="monitoring.W040",
            )
        )
    return messages


@register()
def check_alert_settings(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse alert and health settings that cannot work; warn when alert emails go nowhere."""
    messages: list = []
    if not _positive_number(conf.ALERT_INTERVAL):
        messages.append(
            Error(
                f"MONITORING_ALERT_INTERVAL must be a positive number of seconds, "
                f"not {conf.ALERT_INTERVAL!r}.",
                hint="The default is 60.",
                id="monitoring.E050",
            )
        )
    emails = conf.ALERT_EMAILS
    if emails is not None and (
        isinstance(emails, str)
        or not isinstance(emails, (list, tuple))
        or not all(isinstance(email, str) and "@" in email for email in emails)
    ):
        messages.append(
            Error(
                f"MONITORING_ALERT_EMAILS must be a list of email addresses, not {emails!r}.",
                hint="For example ['ops@example.com']; None sends alerts to ADMINS.",
                id="monitoring.E051",
            )
        )
    token = conf.HEALTH_TOKEN
    if token is not None and (not isinstance(token, str) or not token.strip()):
        messages.append(
            Error(
                f"MONITORING_HEALTH_TOKEN must be a non-empty string or None, not {token!r}.",
                hint="Set it to a long random string, e.g. from secrets.token_urlsafe(32).",
                id="monitoring.E052",
            )
        )
    if not _positive_number(conf.HEALTH_FLUSH_LAG):
        messages.append(
            Error(
                f"MONITORING_HEALTH_FLUSH_LAG must be a positive number of seconds, "
                f"not {conf.HEALTH_FLUSH_LAG!r}.",
                hint="The default is 120.",
                id="monitoring.E053",
            )
        )
    if monitor.alerts and not emails and not settings.ADMINS:
        messages.append(
            Warning(
                "Alert rules are registered, but neither MONITORING_ALERT_EMAILS nor ADMINS "
                "names anybody: alert emails go nowhere.",
                hint="Set MONITORING_ALERT_EMAILS = ['ops@example.com'], or ADMINS.",
                id="monitoring.W050",
            )
        )
    return messages


@register()
def check_jobs_and_site_url(app_configs: Any = None, **kwargs: Any) -> list:
    """Refuse a MONITORING_JOBS that is not a bool and a MONITORING_SITE_URL that is no string.

    ``"false"`` from an environment variable would otherwise leave the jobs on,
    and a URL that is no string would fail every alert email.
    """
    messages = []
    if not isinstance(conf.JOBS, bool):
        messages.append(
            Error(
                f"MONITORING_JOBS must be True or False, not {conf.JOBS!r}.",
                hint="Convert an environment variable yourself, e.g. "
                "os.environ.get('MONITORING_JOBS', '1') == '1'.",
                id="monitoring.E080",
            )
        )
    if not isinstance(conf.SITE_URL, str):
        messages.append(
            Error(
                f"MONITORING_SITE_URL must be a string such as 'https://example.com', "
                f"not {conf.SITE_URL!r}.",
                id="monitoring.E081",
            )
        )
    return messages
