"""Who may see monitoring data, and how everybody else is told.

Browsers that may not look get a page that says why (or the login page);
JSON and CSV clients get a JSON body with a 401, 403 or 404, never an
HTML redirect they cannot follow.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render, resolve_url
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from monitoring.conf import conf

__all__ = [
    "StaffRequiredMixin",
    "bearer_token",
    "deny",
    "denial_reason",
    "has_access",
    "token_denied",
    "token_matches",
    "token_setting",
    "wants_data",
]


def has_access(request: HttpRequest) -> bool:
    """Return True if the request's user may see monitoring data.

    Active staff, or, when ``MONITORING_PERMISSION`` names a permission,
    active users who have it.
    """
    user = request.user
    if not user.is_active:
        return False
    if conf.PERMISSION:
        return user.has_perm(conf.PERMISSION)
    return bool(user.is_staff)


def denial_reason(request: HttpRequest) -> str:
    """Return, for people, why the request's user may not see monitoring data."""
    user = request.user
    if not user.is_authenticated:
        return _("Log in to see monitoring data.")
    if not user.is_active:
        return _("Your account is inactive.")
    if conf.PERMISSION:
        return _("Monitoring needs the permission %(permission)s, which your account lacks.") % {
            "permission": conf.PERMISSION
        }
    return _("Monitoring is for staff users only, and your account is not a staff account.")


def wants_data(request: HttpRequest) -> bool:
    """Return True for clients that read JSON or CSV, or fetch cards by script.

    Those get JSON error bodies; a person in a browser gets a page.
    """
    if request.GET.get("format") in ("json", "csv"):
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    accept = request.headers.get("Accept", "")
    return "text/html" not in accept and ("application/json" in accept or "text/csv" in accept)


def deny(request: HttpRequest) -> HttpResponse:
    """Refuse the request in the form its client reads.

    Anonymous browsers go to the login page; other browsers get a 403 page
    that says why; data clients get ``{"error": ...}`` with a 401 or 403.
    """
    reason = denial_reason(request)
    anonymous = not request.user.is_authenticated
    if wants_data(request):
        return JsonResponse({"error": reason}, status=401 if anonymous else 403)
    if anonymous:
        return redirect_to_login(request.get_full_path())
    from monitoring.views.layout import base_context

    context = {
        **base_context(request),
        "reason": reason,
        "login_url": resolve_url(settings.LOGIN_URL) + "?" + urlencode({"next": request.path}),
    }
    return render(request, "monitoring/denied.html", context, status=403)


def not_found(request: HttpRequest, message: str) -> HttpResponse | None:
    """Return a JSON 404 for data clients; None lets Django answer browsers."""
    if wants_data(request):
        return JsonResponse({"error": message}, status=404)
    return None


def token_setting(value: Any) -> str | None:
    """Return a token setting's value stripped, or None when it holds no token."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None  # also a wrong type: a system check reports it


def bearer_token(request: HttpRequest) -> str | None:
    """Return the token of the request's ``Authorization: Bearer ...`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(given: str, token: str | None) -> bool:
    """Return True if ``given`` equals ``token``, compared in constant time; never for None."""
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def token_denied(status: int, message: str) -> JsonResponse:
    """Refuse a machine client with ``{"error": message}``; a 401 names the Bearer scheme."""
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="monitoring"'
    return response


class StaffRequiredMixin:
    """Let only users who may see monitoring through (see :func:`has_access`)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_access(request):
            return deny(request)
        return super().dispatch(request, *args, **kwargs)
