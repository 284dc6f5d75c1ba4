"""``/monitoring/health``: one answer for load balancers and uptime checkers.

It answers ``200 {"status": "ok"}`` while every check passes and ``503``
when one fails:

- ``database``: the monitoring database answers a query;
- ``flush``: this process's write buffer is not stuck (points wait no
  longer than ``MONITORING_HEALTH_FLUSH_LAG`` seconds for a flush, and not
  at all on a flusher thread that is not running);
- ``alerts``: no alert rule marked ``critical=True`` is firing.

A bearer token (``MONITORING_HEALTH_TOKEN``) or a staff session also gets
the details: each check, and every firing rule. With
``MONITORING_HEALTH_ANONYMOUS`` anybody else gets the status alone.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.conf import conf
from monitoring.views.access import (
    bearer_token,
    has_access,
    token_denied,
    token_matches,
    token_setting,
)

__all__ = ["health_report", "health_view"]


def _database() -> dict[str, Any]:
    alias = conf.DATABASE
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return {"ok": False, "error": f"The database {alias!r} is unreachable: {exc}"}
    return {"ok": True}


def _flush() -> dict[str, Any]:
    """Check that this process's points get written: fail while some wait on a stuck flusher.

    The flusher is stuck when points wait and it made no progress (took
    points, finished a write or started) for longer than the bound, or when
    its thread is not running: it died, or never started. A thread that does
    not run writes nothing however long one waits, so that fails at once.
    """
    from monitoring import storage

    stats = storage.stats()
    bound = conf.HEALTH_FLUSH_LAG
    pending, age, alive = stats["pending"], stats["flush_age"], stats["thread_alive"]
    result: dict[str, Any] = {
        "ok": True,
        "pending": pending,
        "flush_age": age,
        "thread_alive": alive,
    }
    if not pending:
        return result
    if not alive:
        last = "it never ran" if age is None else f"its last flush was {age:.0f} s ago"
        result["ok"] = False
        result["error"] = (
            f"{pending} data points wait, and the flusher thread is not running ({last})."
        )
    elif age is not None and age > bound:
        result["ok"] = False
        result["error"] = (
            f"{pending} data points wait, and the last flush was {age:.0f} s ago "
            f"(more than MONITORING_HEALTH_FLUSH_LAG, {bound} s)."
        )
    return result


def _firing() -> list[dict[str, Any]]:
    from monitoring.alerts import firing

    return [
        {
            "name": rule.name,
            "monitor": rule.monitor,
            "stat": rule.stat,
            "value": state.value,
            "threshold": rule.threshold(),
            "since": state.since.isoformat(),
            "critical": rule.critical,
        }
        for rule, state in firing()
    ]


def health_report() -> dict[str, Any]:
    """Return the full report: ``status``, ``checks`` with their details, ``firing`` rules."""
    checks = {"database": _database(), "flush": _flush()}
    firing: list[dict[str, Any]] = []
    if checks["database"]["ok"]:
        try:
            firing = _firing()
        except Exception as exc:  # the tables may be missing: migrations not run
            checks["alerts"] = {"ok": False, "error": f"The alert states are unreadable: {exc}"}
    if "alerts" not in checks:
        critical = [rule["name"] for rule in firing if rule["critical"]]
        checks["alerts"] = {"ok": not critical}
        if critical:
            checks["alerts"]["error"] = f"Critical rules are firing: {', '.join(critical)}."
    failing = [name for name, check in checks.items() if not check["ok"]]
    return {
        "status": "error" if failing else "ok",
        "failing": failing,
        "checks": checks,
        "firing": firing,
    }


@never_cache
@require_safe
def health_view(request: HttpRequest) -> HttpResponse:
    """Answer 200 or 503 with the health report, or refuse the request.

    A bearer token must equal ``MONITORING_HEALTH_TOKEN`` (compared in
    constant time); without one, a staff session gets the details, and
    with ``MONITORING_HEALTH_ANONYMOUS`` everybody else the status only.
    """
    token = token_setting(conf.HEALTH_TOKEN)
    given = bearer_token(request)
    if given is not None:
        if not token_matches(given, token):
            return token_denied(401, "The bearer token is not valid.")
        details = True
    else:
        user = getattr(request, "user", None)
        details = user is not None and has_access(request)
        if not details and not conf.HEALTH_ANONYMOUS:
            if user is not None and user.is_authenticated:
                return token_denied(403, "The health details are for staff users only.")
            return token_denied(
                401, "Send 'Authorization: Bearer <MONITORING_HEALTH_TOKEN>' or log in as staff."
            )
    report = health_report()
    status = 200 if report["status"] == "ok" else 503
    body = report if details else {"status": report["status"]}
    return JsonResponse(body, status=status)
