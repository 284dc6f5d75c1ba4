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
    # Number of daily buckets the monitor views answer with.
    "MONITORING_DEFAULT_DAYS": 30,
    # Permission ("app_label.codename") that opens the dashboard instead of is_staff.
    "MONITORING_PERMISSION": None,
    # Range the dashboard shows when its URL names none.
    "MONITORING_DEFAULT_RANGE": "7d",
}


class Settings:
    """Give each ``MONITORING_*`` setting, or its default when the project leaves it out."""

    @property
    def BASE_TEMPLATE(self) -> str:  # noqa: N802 - mirrors the setting's name
        return getattr(settings, "MONITORING_BASE_TEMPLATE", DEFAULTS["MONITORING_BASE_TEMPLATE"])

    @property
    def DEFAULT_DAYS(self) -> int:  # noqa: N802
        return getattr(settings, "MONITORING_DEFAULT_DAYS", DEFAULTS["MONITORING_DEFAULT_DAYS"])

    @property
    def PERMISSION(self) -> str | None:  # noqa: N802
        return getattr(settings, "MONITORING_PERMISSION", DEFAULTS["MONITORING_PERMISSION"])

    @property
    def DEFAULT_RANGE(self) -> str:  # noqa: N802
        return getattr(settings, "MONITORING_DEFAULT_RANGE", DEFAULTS["MONITORING_DEFAULT_RANGE"])


conf = Settings()
