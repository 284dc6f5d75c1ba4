"""Template tags that put live monitoring cards into any template.

::

    {% load monitoring %}
    {% monitoring_assets %}
    {% monitoring_card 'user_count' range='24h' %}

Both follow the dashboard's access rules: for a user who may not see
monitoring data (see :func:`monitoring.views.access.has_access`) they render
nothing. They need the request in the template context
(``django.template.context_processors.request``).
"""

from __future__ import annotations

import json

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from monitoring.buckets import site_timezone
from monitoring.forms import RANGES, default_range
from monitoring.register import monitor

register = template.Library()


def _may_see(context: template.Context) -> bool:
    from monitoring.views.access import has_access

    request = context.get("request")
    return request is not None and has_access(request)


@register.simple_tag(takes_context=True)
def monitoring_assets(context: template.Context) -> SafeString:
    """Render the stylesheets and scripts that monitoring cards need, once per page."""
    if not _may_see(context):
        return mark_safe("")
    return mark_safe(render_to_string("monitoring/tags/assets.html"))  # noqa: S308 - our template


@register.simple_tag(takes_context=True)
def monitoring_card(context: template.Context, name: str, range: str | None = None) -> SafeString:  # noqa: A002 - the parameter's name
    """Render the live card of the monitor ``name``, over ``range`` (the default range).

    Raise NotRegistered for an unknown name, so a typo shows while developing.
    """
    from monitoring.views.data import script_messages
    from monitoring.views.layout import card_id

    handle = monitor.get(name)
    if not _may_see(context):
        return mark_safe("")
    if range is not None and range not in RANGES:
        raise template.TemplateSyntaxError(
            f"monitoring_card range={range!r} is not one of {', '.join(RANGES)}."
        )
    html = render_to_string(
        "monitoring/tags/card.html",
        {
            "monitor": handle,
            "card_id": card_id(context.get("request"), name),
            "range": range or default_range(),
            "timezone": str(site_timezone()),
            "messages_json": json.dumps(script_messages()),
        },
        request=context.get("request"),
    )
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


@register.simple_tag(takes_context=True)
def monitoring_admin_link(context: template.Context) -> SafeString:
    """Render "Monitoring /" for the admin's user tools, for users who may see it."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.html import format_html
    from django.utils.translation import gettext

    if not _may_see(context):
        return mark_safe("")
    try:
        url = reverse("monitoring:dashboard")
    except NoReverseMatch:  # the project has not included monitoring.urls (check W002)
        return mark_safe("")
    return format_html(
        '<a href="{}" class="monitoring-admin-link">{}</a> / ', url, gettext("Monitoring")
    )


@register.simple_tag(takes_context=True)
def monitoring_admin_module(context: template.Context) -> SafeString:
    """Render the admin index's Monitoring module: a link and some cards.

    The cards are those ``MONITORING_ADMIN_CARDS`` names; by default the first two monitors.
    """
    from django.urls import reverse

    from monitoring.conf import conf

    if not _may_see(context):
        return mark_safe("")
    names = conf.ADMIN_CARDS
    if names is None:
        names = [handle.name for handle in list(monitor)[:2]]
    html = render_to_string(
        "monitoring/tags/admin_module.html",
        {"cards": names, "dashboard_url": reverse("monitoring:dashboard")},
        request=context.get("request"),
    )
    return mark_safe(html)  # noqa: S308 - rendered and escaped by the template engine


@register.filter
def monitoring_number(value: int | float | None) -> str:
    """Return ``value`` as the dashboard writes numbers, in the active language ("–" for None)."""
    from monitoring.views.text import format_number

    return format_number(value)
