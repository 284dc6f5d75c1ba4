"""Write data points in one transaction: raw rows, then rollups as atomic upserts.

The upserts add to what is stored (``count = count + excluded.count``), so
any number of processes can flush into the same buckets without losing an
increment. They need ``INSERT ... ON CONFLICT``: SQLite 3.24+ or PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models, transaction

from monitoring.storage.rollups import Aggregator, dimension_key, dimension_value, epoch_us

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from monitoring.models import MonitorBase

    #: A buffered data point: (model, value, at, dimensions).
    Point = tuple[type[MonitorBase], int | float, dt.datetime, dict[str, Any]]

__all__ = ["SUPPORTED_VENDORS", "Batch", "Columns", "apply_rollups", "write_batch", "write_points"]

#: Database backends whose SQL the upserts are written in.
SUPPORTED_VENDORS = ("sqlite", "postgresql")

_ROLLUP_KEY = ("monitor", "resolution", "start", "dimensions")


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def _rollup_sql(connection: BaseDatabaseWrapper) -> str:
    from monitoring.models import Rollup

    q = lambda name: _quote(connection, name)  # noqa: E731 - a local shorthand
    table = q(Rollup._meta.db_table)
    least, greatest = ("min", "max") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
    columns = [*_ROLLUP_KEY, "count", "sum", "min", "max", "last", "last_at"]
    newer = f"excluded.{q('last_at')} >= {table}.{q('last_at')}"
    return (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(q(c) for c in _ROLLUP_KEY)}) DO UPDATE SET "
        f"{q('count')} = {table}.{q('count')} + excluded.{q('count')}, "
        f"{q('sum')} = {table}.{q('sum')} + excluded.{q('sum')}, "
        f"{q('min')} = {least}({table}.{q('min')}, excluded.{q('min')}), "
        f"{q('max')} = {greatest}({table}.{q('max')}, excluded.{q('max')}), "
        f"{q('last')} = CASE WHEN {newer} THEN excluded.{q('last')} "
        f"ELSE {table}.{q('last')} END, "
        f"{q('last_at')} = CASE WHEN {newer} THEN excluded.{q('last_at')} "
        f"ELSE {table}.{q('last_at')} END"
    )


def _bin_sql(connection: BaseDatabaseWrapper) -> str:
    from monitoring.models import RollupBin

    q = lambda name: _quote(connection, name)  # noqa: E731
    table = q(RollupBin._meta.db_table)
    key = [*_ROLLUP_KEY, "bin"]
    return (
        f"INSERT INTO {table} ({', '.join(q(c) for c in [*key, 'count'])}) "
        f"VALUES ({', '.join(['%s'] * (len(key) + 1))}) "
        f"ON CONFLICT ({', '.join(q(c) for c in key)}) DO UPDATE SET "
        f"{q('count')} = {table}.{q('count')} + excluded.{q('count')}"
    )


def apply_rollups(cursor: Any, name: str, aggregator: Aggregator) -> None:
    """Upsert the buckets and bins of ``aggregator`` for the monitor ``name``.

    In key order: concurrent flushes then lock rows in the same order, so
    PostgreSQL never has to break a deadlock between them.
    """
    connection = cursor.db
    rows, bins = aggregator.finish()
    if rows:
        cursor.executemany(
            _rollup_sql(connection),
            [
                (name, resolution, start, dims, *row)
                for (resolution, start, dims), row in sorted(rows.items())
            ],
        )
    if bins:
        cursor.executemany(
            _bin_sql(connection),
            [
                (name, resolution, start, dims, index, count)
                for (resolution, start, dims, index), count in sorted(bins.items())
            ],
        )


def _sqlite_datetime(zone: dt.tzinfo) -> Callable[[dt.datetime], str]:
    """Return what Django's SQLite adapt_datetimefield_value() does to an aware datetime, faster.

    It runs once per raw row, where Django's version costs more than the insert.
    """

    def adapt(value: dt.datetime) -> str:
        if value.tzinfo is dt.timezone.utc and zone is dt.timezone.utc:
            return value.isoformat(" ")[:-6]  # drop "+00:00": one C call instead of two
        if value.tzinfo is not zone:
            value = value.astimezone(zone)
        return str(value.replace(tzinfo=None))

    return adapt


class _RawTable:
    """How to insert raw rows of one monitor model on one connection."""

    def __init__(self, model: type[MonitorBase], connection: BaseDatabaseWrapper):
        opts = model._meta
        self.dimensions = model.dimension_fields()
        self.names = [field.name for field in self.dimensions]
        value_field, created_field = opts.get_field("value"), opts.get_field("created")
        columns = [value_field.column, created_field.column] + [f.column for f in self.dimensions]
        self.sql = (
            f"INSERT INTO {_quote(connection, opts.db_table)} "
            f"({', '.join(_quote(connection, c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.adapt_created = connection.ops.adapt_datetimefield_value
        if connection.vendor == "sqlite" and settings.USE_TZ:
            self.adapt_created = _sqlite_datetime(connection.timezone)
        self.connection = connection

    def complete(self, dimensions: dict[str, Any]) -> list[Any]:
        """Return every dimension's value, the field's default where ``add()`` left it out."""
        return [
            dimensions[field.name] if field.name in dimensions else field.get_default()
            for field in self.dimensions
        ]

    def params(self, value: Any, at: dt.datetime, values: Sequence[Any]) -> list[Any]:
        row = [value, self.adapt_created(at)]
        for field, dim in zip(self.dimensions, values, strict=True):
            if field.is_relation and isinstance(dim, models.Model):
                dim = dim.pk
            row.append(field.get_db_prep_save(dim, self.connection))
        return row


class Columns:
    """The buffered points of one model, column by column.

    Three lists of plain values instead of a tuple per point: appending
    allocates nothing the garbage collector has to track, which matters at a
    million points.
    """

    __slots__ = ("dimensions", "times", "values")

    def __init__(self) -> None:
        self.values: list[int | float] = []
        self.times: list[dt.datetime] = []
        #: Each point's dimensions as add() got them, or None for none.
        self.dimensions: list[dict[str, Any] | None] = []

    def append(self, value: int | float, at: dt.datetime, dimensions: dict | None) -> None:
        self.values.append(value)
        self.times.append(at)
        self.dimensions.append(dimensions or None)

    def extend(self, other: Columns, limit: int | None = None) -> None:
        """Append the points of ``other``, at most ``limit`` of them."""
        end = len(other) if limit is None else limit
        self.values.extend(other.values[:end])
        self.times.extend(other.times[:end])
        self.dimensions.extend(other.dimensions[:end])

    def slice(self, start: int, end: int) -> Columns:
        """Return the points from ``start`` to ``end`` as new Columns."""
        part = Columns()
        part.values = self.values[start:end]
        part.times = self.times[start:end]
        part.dimensions = self.dimensions[start:end]
        return part

    def __len__(self) -> int:
        return len(self.values)


#: Buffered points by model.
Batch = dict[type["MonitorBase"], Columns]


def write_points(points: Iterable[Point], using: str) -> None:
    """Write (model, value, at, dimensions) tuples; see :func:`write_batch`."""
    batch: Batch = {}
    for model, value, at, dimensions in points:
        columns = batch.get(model)
        if columns is None:
            columns = batch[model] = Columns()
        columns.append(value, at, dimensions)
    write_batch(batch, using)


def write_batch(batch: Batch, using: str) -> None:
    """Write the points of ``batch`` to the database ``using`` in one transaction, or raise.

    Every point becomes a raw row of its model. The points of a registered
    model also go into its monitor's rollups; a model that no monitor uses
    gets its raw rows only (``monitoring_rebuild`` can roll them up later).
    """
    from monitoring.register import monitor

    connection = connections[using]
    raw: list[tuple[str, list]] = []
    rollups: list[tuple[str, Aggregator]] = []
    for model, columns in batch.items():
        if not columns:
            continue
        table = _RawTable(model, connection)
        handle = monitor.get_for_model(model)
        aggregator = Aggregator(model.kind == "duration") if handle is not None else None
        values, times = columns.values, columns.times
        if table.dimensions:
            params = []
            for value, at, dimensions in zip(values, times, columns.dimensions, strict=True):
                completed = table.complete(dimensions or {})
                params.append(table.params(value, at, completed))
                if aggregator is not None:
                    key = dimension_key(
                        table.names,
                        [
                            dimension_value(f, v)
                            for f, v in zip(table.dimensions, completed, strict=True)
                        ],
                    )
                    aggregator.add(epoch_us(at), value, key)
        else:
            params = list(zip(values, map(table.adapt_created, times), strict=True))
            if aggregator is not None:
                aggregator.add_many(map(epoch_us, times), values, "")
        raw.append((table.sql, params))
        if aggregator is not None:
            rollups.append((handle.name, aggregator))

    with transaction.atomic(using=using), connection.cursor() as cursor:
        for sql, params in raw:
            cursor.executemany(sql, params)
        for name, aggregator in sorted(rollups, key=lambda item: item[0]):
            apply_rollups(cursor, name, aggregator)
