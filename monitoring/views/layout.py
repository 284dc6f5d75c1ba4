"""The base template the pages extend, and the context it needs."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest

from monitoring.conf import conf

__all__ = ["ADMIN_BASE_TEMPLATE", "base_context"]

#: The optional base template that puts the pages inside the admin's look.
ADMIN_BASE_TEMPLATE = "monitoring/admin_base.html"


def base_context(request: HttpRequest) -> dict[str, Any]:
    """Return ``base_template`` and, for the admin's base, the admin's own context.

    The admin's templates need ``site_header``, ``has_permission`` and the
    like, which its own views get from ``AdminSite.each_context()``.
    """
    context: dict[str, Any] = {"base_template": conf.BASE_TEMPLATE}
    if conf.BASE_TEMPLATE == ADMIN_BASE_TEMPLATE and apps.is_installed("django.contrib.admin"):
        from django.contrib import admin

        context.update(admin.site.each_context(request))
    return context
