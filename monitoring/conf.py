"""Settings for django-monitoring, read lazily so ``override_settings`` just works.

Every setting is optional. Read them through ``conf``::

    from monitoring.conf import conf
    conf.BASE_TEMPLATE
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS: dict[str, object] = {
    # Template that monitoring/dashboard.html extends; it must define {% block main %}.
    "MONITORING_BASE_TEMPLATE": "monitoring/base.html",
    # -- storage ------------------------------------------------------------
    # The database alias that holds every monitoring table (raw rows and rollups).
    "MONITORING_DATABASE": "default",
    # False writes each data point inside add() instead of buffering it.
    "MONITORING_BUFFER": True,
    # Seconds between two flushes of the buffer by the background thread.
    "MONITORING_FLUSH_INTERVAL": 5.0,
    # Points in the buffer that wake the background thread for an early flush.
    "MONITORING_BUFFER_SIZE": 5000,
    # Points the buffer holds at most. Past it, add() waits for the flusher while the
    # database accepts writes, and drops (and counts) points while it is unavailable.
    "MONITORING_BUFFER_MAX": 200_000,
    # Seconds add() waits on a full buffer for the flusher to make progress before it
    # drops the point.
    "MONITORING_BUFFER_WAIT": 10.0,
    # Directory where an exit flush that finds the database unavailable keeps its points
    # for the next process; None loses them (and says so).
    "MONITORING_SPOOL_DIR": None,
    # Points the spool holds at most, over all its files.
    "MONITORING_SPOOL_MAX": 1_000_000,
    # Days to keep raw rows and each resolution of rollups; None keeps them forever.
    "MONITORING_RETENTION": {"raw": 30, "minute": 7, "hour": 400, "day": None},
    # Seconds between two automatic prunes by the background thread; None turns them off.
    "MONITORING_PRUNE_INTERVAL": 600,
    # Rows deleted at most per table by one automatic prune.
    "MONITORING_PRUNE_BATCH": 10_000,
    # Permission ("app_label.codename") that opens the dashboard instead of is_staff.
    "MONITORING_PERMISSION": None,
    # Monitors whose cards the admin index shows; None: the first two, [] none.
    "MONITORING_ADMIN_CARDS": None,
    # Range the dashboard and every monitor's card, JSON and CSV show when the URL names none.
    "MONITORING_DEFAULT_RANGE": "7d",
    # Seconds a chart of an existing table (register_model()) stays in the cache; 0 turns
    # the cache off.
    "MONITORING_TABLE_CACHE_TIMEOUT": 60,
    # The cache (an alias of CACHES) that keeps those charts.
    "MONITORING_TABLE_CACHE": "default",
    # False keeps the jobs thread (sampled gauges, alert evaluation) from starting in
    # web processes; commands such as monitoring_sample then do that work from cron.
    "MONITORING_JOBS": True,
    # -- built-in monitors ----------------------------------------------------
    # Regular expressions of request paths the built-in middleware don't record.
    "MONITORING_REQUESTS_SKIP": [],
    # Record request latency by URL name (True) or all together.
    "MONITORING_REQUESTS_VIEW_NAMES": True,
    # -- Prometheus -----------------------------------------------------------
    # Bearer token that opens /monitoring/metrics to a scraper; None leaves it shut.
    "MONITORING_METRICS_TOKEN": None,
    # True lets staff sessions (as for the dashboard) read /monitoring/metrics.
    "MONITORING_METRICS_STAFF": False,
    # -- alerts, health and annotations ---------------------------------------
    # Seconds between two evaluations of the alert rules by the background thread.
    "MONITORING_ALERT_INTERVAL": 60,
    # Addresses alert emails go to; None (or empty) sends them to ADMINS with mail_admins.
    "MONITORING_ALERT_EMAILS": None,
    # Scheme and host put before the monitor's path in alert emails, e.g.
    # "https://example.com"; "" leaves the link a path.
    "MONITORING_SITE_URL": "",
    # Bearer token that opens /monitoring/health with details; None: staff only.
    "MONITORING_HEALTH_TOKEN": None,
    # True lets anyone read /monitoring/health's status (never its details).
    "MONITORING_HEALTH_ANONYMOUS": False,
    # Seconds a buffered point may wait for its flush before health reports the flusher stuck.
    "MONITORING_HEALTH_FLUSH_LAG": 120,
}


class Settings:
    """Give each ``MONITORING_*`` setting, or its default when the project leaves it out."""

    @property
    def BASE_TEMPLATE(self) -> str:  # noqa: N802 - mirrors the setting's name
        return getattr(settings, "MONITORING_BASE_TEMPLATE", DEFAULTS["MONITORING_BASE_TEMPLATE"])

    # -- storage ------------------------------------------------------------

    @property
    def DATABASE(self) -> str:  # noqa: N802
        return getattr(settings, "MONITORING_DATABASE", DEFAULTS["MONITORING_DATABASE"])

    @property
    def BUFFER(self) -> bool:  # noqa: N802
        return getattr(settings, "MONITORING_BUFFER", DEFAULTS["MONITORING_BUFFER"])

    @property
    def FLUSH_INTERVAL(self) -> float:  # noqa: N802
        return getattr(settings, "MONITORING_FLUSH_INTERVAL", DEFAULTS["MONITORING_FLUSH_INTERVAL"])

    @property
    def BUFFER_SIZE(self) -> int:  # noqa: N802
        return getattr(settings, "MONITORING_BUFFER_SIZE", DEFAULTS["MONITORING_BUFFER_SIZE"])

    @property
    def BUFFER_MAX(self) -> int:  # noqa: N802
        return getattr(settings, "MONITORING_BUFFER_MAX", DEFAULTS["MONITORING_BUFFER_MAX"])

    @property
    def BUFFER_WAIT(self) -> float:  # noqa: N802
        return getattr(settings, "MONITORING_BUFFER_WAIT", DEFAULTS["MONITORING_BUFFER_WAIT"])

    @property
    def SPOOL_DIR(self) -> str | None:  # noqa: N802
        return getattr(settings, "MONITORING_SPOOL_DIR", DEFAULTS["MONITORING_SPOOL_DIR"])

    @property
    def SPOOL_MAX(self) -> int:  # noqa: N802
        return getattr(settings, "MONITORING_SPOOL_MAX", DEFAULTS["MONITORING_SPOOL_MAX"])

    @property
    def RETENTION(self) -> dict[str, int | None]:  # noqa: N802
        """Return the retention in days per table, the project's keys over the defaults."""
        value = getattr(settings, "MONITORING_RETENTION", None)
        if value is None:
            return dict(DEFAULTS["MONITORING_RETENTION"])
        if not isinstance(value, dict):
            return value  # reported by check monitoring.E008
        return {**DEFAULTS["MONITORING_RETENTION"], **value}

    @property
    def PRUNE_INTERVAL(self) -> float | None:  # noqa: N802
        return getattr(settings, "MONITORING_PRUNE_INTERVAL", DEFAULTS["MONITORING_PRUNE_INTERVAL"])

    @property
    def PRUNE_BATCH(self) -> int:  # noqa: N802
        return getattr(settings, "MONITORING_PRUNE_BATCH", DEFAULTS["MONITORING_PRUNE_BATCH"])

    @property
    def PERMISSION(self) -> str | None:  # noqa: N802
        return getattr(settings, "MONITORING_PERMISSION", DEFAULTS["MONITORING_PERMISSION"])

    @property
    def ADMIN_CARDS(self) -> list[str] | None:  # noqa: N802
        return getattr(settings, "MONITORING_ADMIN_CARDS", DEFAULTS["MONITORING_ADMIN_CARDS"])

    @property
    def DEFAULT_RANGE(self) -> str:  # noqa: N802
        return getattr(settings, "MONITORING_DEFAULT_RANGE", DEFAULTS["MONITORING_DEFAULT_RANGE"])

    @property
    def TABLE_CACHE_TIMEOUT(self) -> float:  # noqa: N802
        return getattr(
            settings, "MONITORING_TABLE_CACHE_TIMEOUT", DEFAULTS["MONITORING_TABLE_CACHE_TIMEOUT"]
        )

    @property
    def TABLE_CACHE(self) -> str:  # noqa: N802
        return getattr(settings, "MONITORING_TABLE_CACHE", DEFAULTS["MONITORING_TABLE_CACHE"])

    @property
    def JOBS(self) -> bool:  # noqa: N802
        return getattr(settings, "MONITORING_JOBS", DEFAULTS["MONITORING_JOBS"])

    # -- built-in monitors ----------------------------------------------------

    @property
    def REQUESTS_SKIP(self) -> list[str]:  # noqa: N802
        return getattr(settings, "MONITORING_REQUESTS_SKIP", DEFAULTS["MONITORING_REQUESTS_SKIP"])

    @property
    def REQUESTS_VIEW_NAMES(self) -> bool:  # noqa: N802
        return getattr(
            settings, "MONITORING_REQUESTS_VIEW_NAMES", DEFAULTS["MONITORING_REQUESTS_VIEW_NAMES"]
        )

    # -- Prometheus -----------------------------------------------------------

    @property
    def METRICS_TOKEN(self) -> str | None:  # noqa: N802
        return getattr(settings, "MONITORING_METRICS_TOKEN", DEFAULTS["MONITORING_METRICS_TOKEN"])

    @property
    def METRICS_STAFF(self) -> bool:  # noqa: N802
        return getattr(settings, "MONITORING_METRICS_STAFF", DEFAULTS["MONITORING_METRICS_STAFF"])

    # -- alerts, health and annotations ---------------------------------------

    @property
    def ALERT_INTERVAL(self) -> float:  # noqa: N802
        return getattr(settings, "MONITORING_ALERT_INTERVAL", DEFAULTS["MONITORING_ALERT_INTERVAL"])

    @property
    def ALERT_EMAILS(self) -> list[str] | None:  # noqa: N802
        return getattr(settings, "MONITORING_ALERT_EMAILS", DEFAULTS["MONITORING_ALERT_EMAILS"])

    @property
    def SITE_URL(self) -> str:  # noqa: N802
        return getattr(settings, "MONITORING_SITE_URL", DEFAULTS["MONITORING_SITE_URL"])

    @property
    def HEALTH_TOKEN(self) -> str | None:  # noqa: N802
        return getattr(settings, "MONITORING_HEALTH_TOKEN", DEFAULTS["MONITORING_HEALTH_TOKEN"])

    @property
    def HEALTH_ANONYMOUS(self) -> bool:  # noqa: N802
        return getattr(
            settings, "MONITORING_HEALTH_ANONYMOUS", DEFAULTS["MONITORING_HEALTH_ANONYMOUS"]
        )

    @property
    def HEALTH_FLUSH_LAG(self) -> float:  # noqa: N802
        return getattr(
            settings, "MONITORING_HEALTH_FLUSH_LAG", DEFAULTS["MONITORING_HEALTH_FLUSH_LAG"]
        )


conf = Settings()
