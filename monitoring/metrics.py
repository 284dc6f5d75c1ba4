"""``/monitoring/metrics``: every monitor in the Prometheus text format.

The numbers come from the rollup tables, so they are the whole deployment's,
whatever process answers the scrape (``prometheus_client``'s own
multiprocess mode has to merge per-process files to get there). Per monitor:

- a count becomes a counter: its all-time total, from the day rollups;
- a gauge reports its last reading;
- a duration becomes a histogram with fixed millisecond buckets (each
  log-spaced bin of the rollups falls into the first bucket at or above its
  representative value, within 4.3% of any timing in it), plus its sum and
  count;
- each dimension becomes a label.

The endpoint answers 404 unless ``MONITORING_METRICS_TOKEN`` (a bearer token
for scrapers) or ``MONITORING_METRICS_STAFF`` (staff sessions) opens it.
``prometheus_client`` is an optional dependency:
``pip install django-monitoring[prometheus]``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import Max, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.conf import conf
from monitoring.register import Monitor, monitor
from monitoring.storage.rollups import bin_value
from monitoring.views import has_access

__all__ = ["BUCKETS_MS", "PREFIX", "RollupCollector", "metric_name", "metrics_view"]

#: Upper bounds (ms) of the histogram buckets every duration is exposed with.
BUCKETS_MS: tuple[float, ...] = (
    1, 2.5, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000, 30000, 60000,
)  # fmt: skip

#: What every metric's name starts with.
PREFIX = "monitoring_"

_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(name: str) -> str:
    """Return the Prometheus metric name of the monitor ``name`` (hyphens become ``_``)."""
    return PREFIX + _INVALID.sub("_", name)


def _labels(dimensions: str) -> dict[str, str]:
    """Return a rollup key's dimension values as Prometheus labels (None as "")."""
    if not dimensions:
        return {}
    return {
        str(key): "" if value is None else str(value)
        for key, value in json.loads(dimensions).items()
    }


def _le(value: float) -> str:
    return f"{value:g}"


class RollupCollector:
    """Collect every registered monitor from the rollups (a ``prometheus_client`` collector)."""

    def __init__(self, monitors: list[Monitor] | None = None, using: str | None = None):
        self.monitors = list(monitor) if monitors is None else monitors
        self.using = using or conf.DATABASE

    def describe(self) -> list[Any]:
        # Nothing to check up front: the collector is made per scrape.
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        from monitoring.models import Rollup, RollupBin

        by_kind: dict[str, list[Monitor]] = defaultdict(list)
        for handle in self.monitors:
            by_kind[handle.kind].append(handle)
        day = Rollup.objects.using(self.using).filter(resolution="day")

        names = [h.name for h in by_kind["count"] + by_kind["duration"]]
        totals: dict[tuple[str, str], dict[str, Any]] = {
            (row["monitor"], row["dimensions"]): row
            for row in day.filter(monitor__in=names)
            .values("monitor", "dimensions")
            .annotate(total_count=Sum("count"), total_sum=Sum("sum"))
        }

        for handle in by_kind["count"]:
            labels = handle.model.dimension_names()
            family = CounterMetricFamily(
                metric_name(handle.name), self._help(handle), labels=labels
            )
            for (name, dimensions), row in sorted(totals.items()):
                if name == handle.name:
                    family.add_metric(self._values(labels, dimensions), row["total_sum"] or 0)
            yield family

        gauges = [h.name for h in by_kind["value"]]
        latest = (
            day.filter(monitor__in=gauges)
            .values("monitor", "dimensions")
            .annotate(newest=Max("last_at"))
        )
        last: dict[tuple[str, str], float] = {}
        wanted = {(row["monitor"], row["dimensions"], row["newest"]) for row in latest}
        if wanted:
            rows = day.filter(monitor__in=gauges, last_at__in={w[2] for w in wanted})
            for row in rows.values("monitor", "dimensions", "last_at", "last"):
                if (row["monitor"], row["dimensions"], row["last_at"]) in wanted:
                    last[(row["monitor"], row["dimensions"])] = row["last"]
        for handle in by_kind["value"]:
            labels = handle.model.dimension_names()
            family = GaugeMetricFamily(metric_name(handle.name), self._help(handle), labels=labels)
            for (name, dimensions), value in sorted(last.items()):
                if name == handle.name:
                    family.add_metric(self._values(labels, dimensions), value)
            yield family

        durations = [h.name for h in by_kind["duration"]]
        bins: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(BUCKETS_MS))
        binned = (
            RollupBin.objects.using(self.using)
            .filter(resolution="day", monitor__in=durations)
            .values("monitor", "dimensions", "bin")
            .annotate(n=Sum("count"))
        )
        for row in binned:
            counts = bins[(row["monitor"], row["dimensions"])]
            value = bin_value(row["bin"])
            for i, bound in enumerate(BUCKETS_MS):
                if value <= bound:
                    counts[i] += row["n"]
                    break
        for handle in by_kind["duration"]:
            labels = handle.model.dimension_names()
            family = HistogramMetricFamily(
                metric_name(handle.name), self._help(handle), labels=labels
            )
            for (name, dimensions), row in sorted(totals.items()):
                if name != handle.name:
                    continue
                counts = bins[(name, dimensions)]
                buckets, running = [], 0
                for bound, n in zip(BUCKETS_MS, counts, strict=True):
                    running += n
                    buckets.append((_le(bound), running))
                buckets.append(("+Inf", row["total_count"]))
                family.add_metric(
                    self._values(labels, dimensions), buckets, sum_value=row["total_sum"] or 0
                )
            yield family

    @staticmethod
    def _help(handle: Monitor) -> str:
        text = handle.description or handle.title
        return f"{text} ({handle.unit})" if handle.unit else text

    @staticmethod
    def _values(labels: list[str], dimensions: str) -> list[str]:
        found = _labels(dimensions)
        return [found.get(label, "") for label in labels]


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _denied(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="monitoring"'
    return response


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Answer a scrape with the Prometheus text format, or refuse it.

    If neither a token nor staff sessions open the endpoint, raise Http404.
    A bearer token must equal ``MONITORING_METRICS_TOKEN`` (compared in
    constant time); without one, a staff session is enough when
    ``MONITORING_METRICS_STAFF`` is on.
    """
    token, staff = conf.METRICS_TOKEN, conf.METRICS_STAFF
    if not token and not staff:
        raise Http404("The metrics endpoint is off.")
    given = _bearer(request)
    if given is not None:
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return _denied(401, "The bearer token is not valid.")
    elif not (staff and has_access(request)):
        if staff and request.user.is_authenticated:
            return _denied(403, "Monitoring is for active staff users only.")
        return _denied(401, "Send 'Authorization: Bearer <MONITORING_METRICS_TOKEN>'.")

    try:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    except ImportError:
        return _denied(
            501, "prometheus_client is not installed: pip install django-monitoring[prometheus]"
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollupCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
