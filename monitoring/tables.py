"""Charts of existing tables: the monitors of ``monitor.register_model()``.

A table monitor charts the rows of one of the project's own models by one
of its date fields, e.g. ``User.date_joined``. Nothing is recorded: no raw
rows, no rollups, no buffer. Each chart asks the table itself, bounded by
the chart's range and grouped by the database in the site's time zone, and
keeps the answer in Django's cache for ``MONITORING_TABLE_CACHE_TIMEOUT``
seconds (60 by default), so a dashboard that refreshes, or many staff
looking at once, does not group the table again and again.

:func:`monitoring.queries.get_series` hands table monitors to
:func:`table_series`, so their card, page, JSON and CSV are those of any
count monitor.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import FieldDoesNotExist, FieldError, ImproperlyConfigured
from django.db import connections, models
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDay, TruncHour, TruncMinute
from django.utils import timezone

from monitoring.buckets import floor_bucket, next_bucket, site_timezone, to_utc
from monitoring.conf import conf
from monitoring.register import Monitor

if TYPE_CHECKING:
    from monitoring.queries import Series

__all__ = ["TableMonitor", "table_series", "table_totals"]

logger = logging.getLogger("monitoring.tables")

#: The aggregates a table monitor can chart: those whose buckets add up to the
#: range's total, as the bars and the headline of a count monitor do.
ADDITIVE = (Count, Sum)
#: The fields a value may add up: integers (keys too), decimals and floats.
NUMBERS = (models.IntegerField, models.DecimalField, models.FloatField)

#: Per bucket size: the truncation the database groups by, and whether it is
#: taken on the site's wall clock (else in UTC, as minute and hour buckets are).
_TRUNCATIONS: dict[str, tuple[type, bool]] = {
    "minute": (TruncMinute, False),
    "5min": (TruncMinute, False),
    "15min": (TruncMinute, False),
    "hour": (TruncHour, False),
    "3h": (TruncHour, True),
    "6h": (TruncHour, True),
    "12h": (TruncHour, True),
    "day": (TruncDay, True),
    "week": (TruncDay, True),
}


class TableMonitor(Monitor):
    """A monitor that charts an existing model by one of its date fields.

    Made by :meth:`MonitorRegistry.register_model`; its chart shows, per
    bucket, ``value`` (an aggregate: ``Count("pk")`` by default, or a
    ``Sum``) over the rows whose ``date_field`` falls into the bucket.
    """

    stored = False

    def __init__(
        self,
        name: str,
        view: Callable[..., Any],
        queryset: models.QuerySet,
        *,
        date_field: str,
        value: Any,
        dimensions: list[str],
        **options: Any,
    ):
        self.queryset = queryset.order_by()
        self.date_field = date_field
        self.value = value
        self._dimension_fields = [queryset.model._meta.get_field(d) for d in dimensions]
        output = queryset.annotate(_monitoring_value=value).query.annotations["_monitoring_value"]
        self._integer = isinstance(output.output_field, (models.IntegerField, models.AutoField))
        super().__init__(name, view, queryset.model, **options)
        # Part of every cache key: a monitor registered again with another definition
        # (or another process's older code) never reads answers meant for the old one.
        definition = f"{queryset.model._meta.label}|{date_field}|{value!r}|{dimensions}|"
        try:
            definition += str(queryset.query)
        except Exception:  # noqa: BLE001 - e.g. EmptyResultSet of .none(): the label will do
            definition += type(queryset.query).__name__
        self.fingerprint = hashlib.sha256(definition.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"<TableMonitor {self.name!r}: {self.model._meta.label}.{self.date_field}>"

    @property
    def kind(self) -> str:
        """Return ``"count"``: each bucket is a total, like a count monitor's."""
        return "count"

    @property
    def integer(self) -> bool:
        """Return True if the aggregate gives whole numbers (a Count, a Sum of integers)."""
        return self._integer

    def dimension_fields(self) -> list[models.Field]:
        """Return the fields given as ``dimensions`` to ``register_model()``."""
        return list(self._dimension_fields)

    def add(self, value: Any = None, at: dt.datetime | None = None, **dimensions: Any) -> None:
        """Raise TypeError: a table monitor charts rows of its table, it records nothing."""
        raise TypeError(
            f"Monitor {self.name!r} charts the table of {self.model._meta.label} by its "
            f"{self.date_field!r} field, so add() cannot record into it: save a "
            f"{self.model.__name__} instead, or register a monitor model for data of its own."
        )


def make_table_monitor(
    name: str,
    model_or_queryset: Any,
    view: Callable[..., Any],
    *,
    date_field: str,
    value: Any,
    dimensions: list[str] | tuple[str, ...] | None,
    **options: Any,
) -> TableMonitor:
    """Return the TableMonitor ``register_model()`` asked for, or raise ImproperlyConfigured."""
    if isinstance(model_or_queryset, models.QuerySet):
        queryset = model_or_queryset
    elif isinstance(model_or_queryset, type) and issubclass(model_or_queryset, models.Model):
        if model_or_queryset._meta.abstract:
            raise ImproperlyConfigured(
                f"Monitor {name!r}: the model {model_or_queryset.__name__} is abstract; "
                f"chart a concrete model."
            )
        queryset = model_or_queryset._default_manager.all()
    else:
        raise ImproperlyConfigured(
            f"Monitor {name!r}: register_model() charts a model or a queryset, "
            f"not {model_or_queryset!r}."
        )
    model = queryset.model
    label = model._meta.label
    if not isinstance(date_field, str):
        raise ImproperlyConfigured(
            f"Monitor {name!r}: date_field must be the name of a field of {label}, "
            f"got {date_field!r}."
        )
    try:
        field = model._meta.get_field(date_field)
    except FieldDoesNotExist:
        raise ImproperlyConfigured(
            f"Monitor {name!r}: {label} has no field {date_field!r} to chart by; "
            f"its date and time fields: {_datetime_fields(model) or 'none'}."
        ) from None
    if not isinstance(field, models.DateTimeField):
        raise ImproperlyConfigured(
            f"Monitor {name!r}: {label}.{date_field} is a {type(field).__name__}; charts "
            f"need a DateTimeField (buckets go down to minutes). Date and time fields of "
            f"{label}: {_datetime_fields(model) or 'none'}."
        )
    if not isinstance(value, ADDITIVE):
        raise ImproperlyConfigured(
            f"Monitor {name!r}: value must be a Count() or Sum() aggregate, such as "
            f"Count('pk') or Sum('total'), got {value!r}. Each bar is a total, and the "
            f"headline adds them up, which other aggregates don't allow."
        )
    try:
        resolved = queryset.annotate(_monitoring_value=value).query.annotations
        output = resolved["_monitoring_value"].output_field
    except (FieldError, FieldDoesNotExist) as exc:
        raise ImproperlyConfigured(f"Monitor {name!r}: value {value!r}: {exc}") from None
    if not isinstance(output, NUMBERS) or isinstance(output, models.BooleanField):
        # Django resolves Sum('plan') on a CharField without complaint; the database
        # refuses it (PostgreSQL: no sum(character varying)) on the chart's first read.
        raise ImproperlyConfigured(
            f"Monitor {name!r}: value {value!r} adds up a {type(output).__name__}; "
            f"Sum() needs a number field of {label} (an integer, decimal or float field)."
        )
    names = list(dimensions or [])
    if isinstance(dimensions, str):
        raise ImproperlyConfigured(
            f"Monitor {name!r}: dimensions must be a list of field names, "
            f"like [{dimensions!r}], not a string."
        )
    for dimension in names:
        try:
            dimension_field = model._meta.get_field(dimension)
        except (FieldDoesNotExist, TypeError):
            dimension_field = None
        if (
            dimension_field is None
            or not dimension_field.concrete
            or dimension_field.many_to_many
            or dimension != dimension_field.name
        ):
            columns = ", ".join(f.name for f in model._meta.concrete_fields)
            raise ImproperlyConfigured(
                f"Monitor {name!r}: {label} has no column {dimension!r} to use as a "
                f"dimension; its fields: {columns}."
            )
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"Monitor {name!r}: a dimension is listed twice in {names}.")
    return TableMonitor(
        name,
        view,
        queryset,
        date_field=date_field,
        value=value,
        dimensions=names,
        **options,
    )


def _datetime_fields(model: type[models.Model]) -> str:
    return ", ".join(
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateTimeField)
    )


def _to_db(moment: dt.datetime) -> dt.datetime:
    """Return an aware moment as the database compares it: naive local time without USE_TZ."""
    if settings.USE_TZ:
        return moment
    return moment.astimezone(site_timezone()).replace(tzinfo=None)


def _number(value: Any) -> int | float:
    if value is None:
        return 0
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


#: The bucket sizes SQLite groups by the minute; every other one by the quarter hour.
_MINUTE_SLOTS = ("minute", "5min")


class _SQLiteSlot(models.Func):
    """The minute or quarter hour of a datetime column as SQLite stores it, as text.

    Django's ``Trunc`` with a time zone runs a Python function for every row
    on SQLite (it has no time zones), some 25 µs a row: 25 s for a million.
    Text functions in C group the same rows in a fraction of that. Every time
    zone in use is a whole number of quarter hours from UTC, so quarter
    hours fold into local hours, days and weeks exactly, in Python, after
    the grouping (:func:`_slot_time`).
    """

    output_field = models.CharField()

    def __init__(self, expression: str, *, fine: bool):
        if fine:
            template = "substr(%(expressions)s, 1, 16)"
        else:
            template = (
                "substr(%(expressions)s, 1, 14) || "
                "printf('%%%%02d', CAST(substr(%(expressions)s, 15, 2) AS INTEGER) / 15 * 15)"
            )
        super().__init__(expression, template=template)


def _slot_time(text: str) -> dt.datetime:
    """Return the start of a slot of :class:`_SQLiteSlot` ("2024-06-03 12:15"), aware."""
    moment = dt.datetime.fromisoformat(text)
    # USE_TZ stores UTC; without it, the site's wall clock.
    return moment.replace(tzinfo=dt.timezone.utc) if settings.USE_TZ else to_utc(moment)


class _Query:
    """The database side of one chart: rows of the range, grouped per bucket."""

    def __init__(self, handle: TableMonitor, resolution: str, filters: dict[str, list[Any]]):
        self.handle = handle
        self.resolution = resolution
        self.rows = handle.queryset
        for name, wanted in filters.items():
            condition = Q(**{f"{name}__in": [v for v in wanted if v is not None]})
            if None in wanted:
                condition |= Q(**{f"{name}__isnull": True})
            self.rows = self.rows.filter(condition)

    def between(self, start: dt.datetime, end: dt.datetime) -> models.QuerySet:
        field = self.handle.date_field
        return self.rows.filter(**{f"{field}__gte": _to_db(start), f"{field}__lt": _to_db(end)})

    def total(self, start: dt.datetime, end: dt.datetime) -> int | float:
        """Return the aggregate over ``[start, end)``."""
        value = self.between(start, end).aggregate(_v=self.handle.value)["_v"]
        return _number(value)

    def grouped_queryset(self, start: dt.datetime, end: dt.datetime, *columns: str) -> Any:
        """Return the query of :meth:`grouped`: (truncated date, *columns, value) rows."""
        if connections[self.rows.db].vendor == "sqlite":
            bucket = _SQLiteSlot(self.handle.date_field, fine=self.resolution in _MINUTE_SLOTS)
        else:
            truncation, local = _TRUNCATIONS[self.resolution]
            tzinfo = site_timezone() if local else dt.timezone.utc
            bucket = truncation(self.handle.date_field, tzinfo=tzinfo)
        return (
            self.between(start, end)
            .annotate(_bucket=bucket)
            .values("_bucket", *columns)
            .annotate(_v=self.handle.value)
            .values_list("_bucket", *columns, "_v")
        )

    def grouped(self, start: dt.datetime, end: dt.datetime, *columns: str) -> list[tuple[Any, ...]]:
        """Return (bucket start epoch, *columns, value) rows, grouped by the database."""
        rows = self.grouped_queryset(start, end, *columns)
        starts: dict[Any, int] = {}
        result = []
        for moment, *rest, value in rows:
            epoch = starts.get(moment)
            if epoch is None:
                if isinstance(moment, str):
                    moment = _slot_time(moment)
                # A finer truncation than the bucket (3 h from hours, a week from days):
                # the last step is the same floor the chart's buckets come from.
                floor = floor_bucket(to_utc(moment), self.resolution)
                epoch = starts[moment] = int(floor.timestamp())
            result.append((epoch, *rest, _number(value)))
        return result

    def by_value(self, start: dt.datetime, end: dt.datetime, column: str) -> dict[Any, Any]:
        """Return {dimension value: aggregate} over ``[start, end)``."""
        rows = (
            self.between(start, end)
            .values(column)
            .annotate(_v=self.handle.value)
            .values_list(column, "_v")
        )
        return {key: _number(value) for key, value in rows}


def _cache_key(handle: TableMonitor, *parts: Any) -> str:
    text = repr(parts).encode()
    return f"monitoring:table:{handle.name}:{handle.fingerprint}:{hashlib.sha256(text).hexdigest()}"


def table_series(
    handle: TableMonitor,
    *,
    start: dt.datetime,
    end: dt.datetime,
    resolution: str,
    starts: list[dt.datetime],
    filters: dict[str, list[Any]],
    split_by: str | None,
    top: int,
) -> Series:
    """Return the series of a table monitor, from the cache or from its table.

    The arguments are those :func:`~monitoring.queries.get_series` has
    checked. Cached answers are at most ``MONITORING_TABLE_CACHE_TIMEOUT``
    seconds old: ranges that end within one such period of each other (a
    "last 24 hours" asked twice a few seconds apart) share one answer.
    """

    def read() -> Series:
        return _read(handle, start, end, resolution, starts, filters, split_by, top)

    step = max(1, int(conf.TABLE_CACHE_TIMEOUT or 0))
    return _cached(
        handle,
        read,
        conf.TABLE_CACHE_TIMEOUT,
        resolution,
        int(start.timestamp()) // step,
        int(end.timestamp()) // step,
        sorted((name, sorted(map(repr, values))) for name, values in filters.items()),
        split_by,
        top,
    )


def _cached(handle: TableMonitor, read: Callable[[], Any], timeout: Any, *parts: Any) -> Any:
    """Return ``read()``, kept in the table cache for ``timeout`` seconds under ``parts``.

    The site's zone and ``USE_TZ`` are part of every key: they decide the buckets.
    """
    if not timeout:
        return read()
    key = _cache_key(handle, str(site_timezone()), settings.USE_TZ, *parts)
    cache = caches[conf.TABLE_CACHE]
    try:
        answer = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - a cache server that is down must not break charts
        logger.warning("Monitoring could not read the cache %r: %s", conf.TABLE_CACHE, exc)
        return read()
    if answer is None:
        answer = read()
        try:
            cache.set(key, answer, timeout)
        except Exception as exc:  # noqa: BLE001
            logger.warning("Monitoring could not write the cache %r: %s", conf.TABLE_CACHE, exc)
    return answer


def table_totals(
    handle: TableMonitor, now: dt.datetime | None = None
) -> dict[tuple[Any, ...], int | float]:
    """Return the aggregate of every row dated before now, per dimension values.

    What ``/monitoring/metrics`` exports as the monitor's counter: keys are
    tuples of the dimension fields' values, in field order (``()`` without
    dimensions). The rows before today's midnight (in ``TIME_ZONE``) are
    aggregated in one pass over the table and kept in the table cache until
    the day is over; today's rows, a range of the indexed date field as a
    chart reads, are added on every call (cached as charts are). So rows
    deleted, changed or inserted with a date before today are counted as they
    were at the first call of the day, until the next day or a cache clear.
    """
    now = to_utc(now or timezone.now())
    midnight = floor_bucket(now, "day")
    query = _Query(handle, "day", {})
    columns = handle.dimension_names()

    def grouped(rows: models.QuerySet) -> dict[tuple[Any, ...], int | float]:
        if not columns:
            return {(): _number(rows.aggregate(_v=handle.value)["_v"])}
        found = rows.values(*columns).annotate(_v=handle.value).values_list(*columns, "_v")
        return {tuple(key): _number(value) for *key, value in found}

    field = handle.date_field
    rest_of_day = int((next_bucket(midnight, "day") - now).total_seconds())
    before = _cached(
        handle,
        lambda: grouped(query.rows.filter(**{f"{field}__lt": _to_db(midnight)})),
        # Kept until the day is over: one pass over the table a day.
        conf.TABLE_CACHE_TIMEOUT and max(1, rest_of_day),
        "totals before",
        int(midnight.timestamp()),
    )
    step = max(1, int(conf.TABLE_CACHE_TIMEOUT or 0))
    today = _cached(
        handle,
        lambda: grouped(query.between(midnight, now)),
        conf.TABLE_CACHE_TIMEOUT,
        "totals since",
        int(midnight.timestamp()),
        int(now.timestamp()) // step,
    )
    totals: dict[tuple[Any, ...], int | float] = defaultdict(int, before)
    for key, value in today.items():
        totals[key] += value
    return dict(totals)


def _read(
    handle: TableMonitor,
    start: dt.datetime,
    end: dt.datetime,
    resolution: str,
    starts: list[dt.datetime],
    filters: dict[str, list[Any]],
    split_by: str | None,
    top: int,
) -> Series:
    from monitoring.queries import OTHER, SUMMARY_STATS, Group, Series

    query = _Query(handle, resolution, filters)
    range_start, range_end = starts[0], next_bucket(starts[-1], resolution)
    epochs = [int(bucket.timestamp()) for bucket in starts]
    sums: dict[int, int | float] = defaultdict(int)
    for epoch, value in query.grouped(range_start, range_end):
        sums[epoch] += value

    def column(buckets: dict[int, int | float]) -> list[int | float]:
        return [buckets.get(epoch, 0) for epoch in epochs]

    groups: list[Group] = []
    if split_by is not None:
        # Ranked over the chart's buckets by one GROUP BY; only the top N are read per bucket.
        totals = query.by_value(range_start, range_end, split_by)
        labels: dict[str, list[Any]] = defaultdict(list)
        label_totals: dict[str, int | float] = defaultdict(int)
        for key, total in totals.items():
            labels[str(key)].append(key)
            label_totals[str(key)] += total
        ranked = sorted(label_totals, key=lambda label: (-label_totals[label], label))
        chosen = ranked[:top]
        per_label: dict[str, dict[int, int | float]] = {label: defaultdict(int) for label in chosen}
        if chosen:
            keys = [key for label in chosen for key in labels[label]]
            split = _Query(handle, resolution, {**filters, split_by: keys})
            for epoch, key, value in split.grouped(range_start, range_end, split_by):
                per_label[str(key)][epoch] += value
        for label in chosen:
            groups.append(Group(label, {"sum": column(per_label[label])}, label_totals[label]))
        if ranked[top:]:
            other = {
                epoch: sums.get(epoch, 0) - sum(per_label[label].get(epoch, 0) for label in chosen)
                for epoch in epochs
            }
            rest = sum(label_totals[label] for label in ranked[top:])
            groups.append(Group(OTHER, {"sum": column(other)}, rest, other=True))

    span = end - start
    return Series(
        name=handle.name,
        kind="count",
        resolution=resolution,
        start=range_start,
        end=range_end,
        buckets=starts,
        values={"sum": column(sums)},
        summary=query.total(start, end),
        previous_summary=query.total(start - span, start),
        summary_stat=SUMMARY_STATS["count"],
        groups=groups,
        split_by=split_by,
    )


def last_row(handle: TableMonitor) -> dt.datetime | None:
    """Return the newest date of the table's rows (aware); None for an empty table."""
    newest = handle.queryset.aggregate(_newest=Max(handle.date_field))["_newest"]
    if newest is None:
        return None
    if timezone.is_naive(newest):
        return to_utc(newest)
    return newest


def today(handle: TableMonitor, now: dt.datetime | None = None) -> dict[str, Any]:
    """Return what ``monitoring_list`` shows of a table monitor, read from its table.

    ``points_today`` is the aggregate over the rows since midnight in the
    site's time zone, ``last_value`` None (a table has no reading), and
    ``last_write`` the newest row's date, in the site's time zone.
    """
    now = to_utc(now or timezone.now())
    midnight = floor_bucket(now, "day")
    newest = last_row(handle)
    return {
        "last_value": None,
        "points_today": _Query(handle, "day", {}).total(midnight, now + dt.timedelta(seconds=1)),
        "last_write": newest.astimezone(site_timezone()) if newest else None,
    }
