"""``/monitoring/metrics``: every monitor in the Prometheus text format.

The numbers come from the rollup tables, so they are the whole deployment's,
whatever process answers the scrape (``prometheus_client``'s own
multiprocess mode has to merge per-process files to get there). Per monitor,
named ``monitoring_<name>``:

- a count becomes a counter (``_total``): the all-time sum of its values,
  from the day rollups;
- a gauge reports its last reading, and ``<name>_readings`` (a summary
  without quantiles: ``_sum`` and ``_count``) every reading so far, so a
  dashboard can draw averages over any window;
- a duration becomes a histogram in seconds (``<name>_seconds``) with fixed
  bucket bounds: each log-spaced bin of the rollups is counted under the
  first bound at or above the bin's lower edge, so a timing equal to a bound
  is counted under it and one up to 9% above a bound may be too;
- each dimension becomes a label (``None`` as ``""``);
- a chart of an existing table (``register_model()``) becomes a counter
  (``_total``) of its aggregate over every row dated before now, read from
  the table itself (see :func:`monitoring.tables.table_totals`).

The endpoint answers 404 unless ``MONITORING_METRICS_TOKEN`` (a bearer token
for scrapers) or ``MONITORING_METRICS_STAFF`` (staff sessions) opens it.
``prometheus_client`` is an optional dependency:
``pip install django-monitoring[prometheus]``.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Max, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from monitoring.conf import conf
from monitoring.register import Monitor, monitor
from monitoring.storage.rollups import GAMMA, ZERO_BIN
from monitoring.views.access import (
    bearer_token,
    has_access,
    token_denied,
    token_matches,
    token_setting,
)

__all__ = [
    "BUCKETS_SECONDS",
    "PREFIX",
    "RollupCollector",
    "exported_names",
    "metric_name",
    "metrics_view",
    "split_clashes",
]

logger = logging.getLogger("monitoring.metrics")

#: Upper bounds (seconds) of the histogram buckets every duration is exposed with.
BUCKETS_SECONDS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
    1, 2.5, 5, 7.5, 10, 30, 60,
)  # fmt: skip

#: What every metric's name starts with.
PREFIX = "monitoring_"

#: Label names Prometheus keeps for itself in a histogram or a summary; a dimension
#: of that name is exported as ``dimension_<name>``.
_RESERVED_LABELS = {"le", "quantile"}

_INVALID = re.compile(r"[^a-zA-Z0-9_]")

#: The kinds of monitor the collector exports.
_KINDS = ("count", "value", "duration")


def metric_name(name: str) -> str:
    """Return the Prometheus family name of the monitor ``name`` (hyphens become ``_``)."""
    return PREFIX + _INVALID.sub("_", name)


def exported_names(handle: Monitor) -> set[str]:
    """Return every family and sample name the monitor ``handle`` exports."""
    base = metric_name(handle.name)
    if handle.kind == "count":
        return {base, base + "_total"}
    if handle.kind == "value":
        readings = base + "_readings"
        return {base, readings, readings + "_sum", readings + "_count"}
    seconds = base + "_seconds"
    return {seconds, seconds + "_bucket", seconds + "_sum", seconds + "_count"}


def split_clashes(monitors: Iterable[Monitor]) -> tuple[list[Monitor], list[tuple[Monitor, str]]]:
    """Return the monitors to export, and (monitor, name it clashes with) for those left out.

    Of two monitors whose exported names would clash, the first one in
    ``monitors`` is kept.
    """
    taken: dict[str, str] = {}
    kept: list[Monitor] = []
    left_out: list[tuple[Monitor, str]] = []
    for handle in monitors:
        names = exported_names(handle)
        clash = next((taken[name] for name in sorted(names) if name in taken), None)
        if clash is None:
            taken.update(dict.fromkeys(names, handle.name))
            kept.append(handle)
        else:
            left_out.append((handle, clash))
    return kept, left_out


def _labels(handle: Monitor) -> list[str]:
    return [
        f"dimension_{name}" if name in _RESERVED_LABELS or name.startswith("__") else name
        for name in handle.dimension_names()
    ]


def _label_values(handle: Monitor, dimensions: str) -> tuple[str, ...]:
    """Return a rollup key's dimension values in label order (None and missing as "")."""
    found = json.loads(dimensions) if dimensions else {}
    return _label_texts(found.get(name) for name in handle.dimension_names())


def _label_texts(values: Iterable[Any]) -> tuple[str, ...]:
    """Return dimension values as label values: None as ""."""
    return tuple("" if value is None else str(value) for value in values)


def _bucket_index(bin_index: int) -> int | None:
    """Return the index of the bound a histogram bin is counted under, None past the last."""
    lower_seconds = 0.0 if bin_index == ZERO_BIN else GAMMA**bin_index / 1000
    for i, bound in enumerate(BUCKETS_SECONDS):
        if lower_seconds <= bound * (1 + 1e-9):
            return i
    return None


def _by_monitor(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["monitor"]].append(row)
    return grouped


class RollupCollector:
    """Collect every registered monitor from the rollups (a ``prometheus_client`` collector)."""

    def __init__(self, monitors: list[Monitor] | None = None, using: str | None = None):
        self.monitors = list(monitor) if monitors is None else monitors
        self.using = using or conf.DATABASE

    def describe(self) -> list[Any]:
        # Nothing to check up front: the collector is made per scrape.
        return []

    def _exported(self) -> list[Monitor]:
        """Return the monitors to export: the first of any two whose names would clash."""
        kept, left_out = split_clashes(self.monitors)
        for handle, clash in left_out:
            logger.warning(
                "Monitor %r is left out of /monitoring/metrics: its metric names clash "
                "with those of monitor %r (check monitoring.W022).",
                handle.name,
                clash,
            )
        return kept

    def collect(self) -> Iterator[Any]:
        from monitoring.models import Rollup, RollupBin

        exported = self._exported()
        stored = [h for h in exported if h.stored]
        names = {kind: [h.name for h in stored if h.kind == kind] for kind in _KINDS}
        day = Rollup.objects.using(self.using).filter(resolution="day")
        sums = _by_monitor(
            day.filter(monitor__in=names["count"] + names["value"] + names["duration"])
            .values("monitor", "dimensions")
            .annotate(total_count=Sum("count"), total_sum=Sum("sum"), newest=Max("last_at"))
        )
        bins = _by_monitor(
            RollupBin.objects.using(self.using)
            .filter(resolution="day", monitor__in=names["duration"])
            .values("monitor", "dimensions", "bin")
            .annotate(n=Sum("count"))
        )
        last = self._last_readings(day, names["value"])
        for handle in exported:
            rows = sums.get(handle.name, [])
            if not handle.stored:
                yield from self._table_counter(handle)
            elif handle.kind == "count":
                yield self._counter(handle, rows)
            elif handle.kind == "value":
                yield from self._gauge(handle, rows, last.get(handle.name, {}))
            else:
                yield self._histogram(handle, rows, bins.get(handle.name, []))

    @staticmethod
    def _last_readings(day: Any, gauges: list[str]) -> dict[str, dict[str, tuple[int, float]]]:
        """Return each gauge's newest reading per rollup key: {name: {key: (last_at, last)}}."""
        last: dict[str, dict[str, tuple[int, float]]] = defaultdict(dict)
        if not gauges:
            return last
        # Newest day first: the first row seen per key holds its newest reading.
        rows = (
            day.filter(monitor__in=gauges)
            .order_by("monitor", "dimensions", "-start")
            .values_list("monitor", "dimensions", "last_at", "last")
        )
        for name, dimensions, at, value in rows.iterator():
            last[name].setdefault(dimensions, (at, value))
        return last

    def _counter(self, handle: Monitor, rows: list[dict[str, Any]]) -> Any:
        totals: dict[tuple[str, ...], float] = defaultdict(float)
        for row in rows:
            totals[_label_values(handle, row["dimensions"])] += row["total_sum"] or 0
        return self._counter_family(handle, totals)

    def _counter_family(self, handle: Monitor, totals: dict[tuple[str, ...], float]) -> Any:
        from prometheus_client.core import CounterMetricFamily

        family = CounterMetricFamily(
            metric_name(handle.name), self._help(handle), labels=_labels(handle)
        )
        for labels, value in sorted(totals.items()):
            family.add_metric(list(labels), value)
        return family

    def _table_counter(self, handle: Monitor) -> Iterator[Any]:
        """Yield the counter of a chart of an existing table, or nothing if it can't be read."""
        from monitoring.tables import table_totals

        try:
            # In a savepoint: under ATOMIC_REQUESTS, a failed query would otherwise
            # abort the transaction the rest of the scrape reads in (PostgreSQL).
            with transaction.atomic(using=handle.queryset.db):
                found = table_totals(handle)
        except DatabaseError as exc:
            # One table that is missing or locked must not fail the whole scrape.
            logger.warning(
                "Monitor %r is left out of this scrape of /monitoring/metrics: its table "
                "could not be read (%s: %s).",
                handle.name,
                type(exc).__name__,
                exc,
            )
            return
        totals: dict[tuple[str, ...], float] = defaultdict(float)
        for key, value in found.items():
            totals[_label_texts(key)] += value
        yield self._counter_family(handle, totals)

    def _gauge(
        self, handle: Monitor, rows: list[dict[str, Any]], last: dict[str, tuple[int, float]]
    ) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

        labels = _labels(handle)
        newest: dict[tuple[str, ...], tuple[int, float]] = {}
        for dimensions, (at, value) in last.items():
            key = _label_values(handle, dimensions)
            if key not in newest or at > newest[key][0]:
                newest[key] = (at, value)
        gauge = GaugeMetricFamily(metric_name(handle.name), self._help(handle), labels=labels)
        for key, (_at, value) in sorted(newest.items()):
            gauge.add_metric(list(key), value)
        yield gauge
        readings: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0, 0.0])
        for row in rows:
            total = readings[_label_values(handle, row["dimensions"])]
            total[0] += row["total_count"] or 0
            total[1] += row["total_sum"] or 0
        summary = SummaryMetricFamily(
            metric_name(handle.name) + "_readings",
            f"Every reading of {handle.title}: their count and sum.",
            labels=labels,
        )
        for key, (count, total) in sorted(readings.items()):
            summary.add_metric(list(key), count_value=count, sum_value=total)
        yield summary

    def _histogram(
        self, handle: Monitor, rows: list[dict[str, Any]], bins: list[dict[str, Any]]
    ) -> Any:
        from prometheus_client.core import HistogramMetricFamily

        counts: dict[tuple[str, ...], list[int]] = defaultdict(
            lambda: [0] * (len(BUCKETS_SECONDS) + 1)
        )
        for row in bins:
            index = _bucket_index(row["bin"])
            slot = len(BUCKETS_SECONDS) if index is None else index
            counts[_label_values(handle, row["dimensions"])][slot] += row["n"]
        sums: dict[tuple[str, ...], float] = defaultdict(float)
        for row in rows:
            sums[_label_values(handle, row["dimensions"])] += (row["total_sum"] or 0) / 1000
        family = HistogramMetricFamily(
            metric_name(handle.name) + "_seconds", self._help(handle), labels=_labels(handle)
        )
        for key, slots in sorted(counts.items()):
            buckets, running = [], 0
            for bound, n in zip(BUCKETS_SECONDS, slots, strict=False):
                running += n
                buckets.append((f"{bound:g}", running))
            # +Inf and _count from the bins too, so they can never fall below a bucket.
            buckets.append(("+Inf", running + slots[-1]))
            family.add_metric(list(key), buckets, sum_value=sums.get(key, 0.0))
        return family

    @staticmethod
    def _help(handle: Monitor) -> str:
        text = str(handle.description or handle.title)
        return f"{text} ({handle.unit})" if handle.unit else text


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Answer a scrape with the Prometheus text format, or refuse it.

    If neither a token nor staff sessions open the endpoint, raise Http404.
    A bearer token must equal ``MONITORING_METRICS_TOKEN`` (compared in
    constant time); without one, a staff session is enough when
    ``MONITORING_METRICS_STAFF`` is on.
    """
    token, staff = token_setting(conf.METRICS_TOKEN), bool(conf.METRICS_STAFF)
    if not token and not staff:
        raise Http404("The metrics endpoint is off.")
    given = bearer_token(request)
    user = getattr(request, "user", None)
    if given is not None:
        if not token_matches(given, token):
            return token_denied(401, "The bearer token is not valid.")
    elif not (staff and user is not None and has_access(request)):
        if staff and user is not None and user.is_authenticated:
            return token_denied(403, "Monitoring is for active staff users only.")
        return token_denied(401, "Send 'Authorization: Bearer <MONITORING_METRICS_TOKEN>'.")

    try:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    except ImportError:
        return token_denied(
            501, "prometheus_client is not installed: pip install django-monitoring[prometheus]"
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollupCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
