"""The base template the pages extend, and the context it needs."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest

from monitoring.conf import conf

__all__ = ["ADMIN_BASE_TEMPLATE", "base_context", "card_id"]

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


def card_id(request: HttpRequest | None, name: str) -> str:
    """Return an element id for a card of the monitor ``name`` that no other card on the page has.

    The first card of a monitor on a page is ``monitor-<name>``; another card of the
    same monitor on that page (a ``{% monitoring_card %}`` on a page that shows it
    already) gets ``monitor-<name>-2``, and so on. The page's request keeps count.
    """
    base = f"monitor-{name}"
    if request is None:
        return base
    taken: dict[str, int] = request.__dict__.setdefault("_monitoring_card_ids", {})
    taken[base] = taken.get(base, 0) + 1
    return base if taken[base] == 1 else f"{base}-{taken[base]}"
