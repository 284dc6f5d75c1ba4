"""Write data points in one transaction: raw rows, then rollups as atomic upserts.

Everything a point needs beyond what ``add()`` captured happens here, on the
flusher: the epoch time becomes the text of the ``created`` column (one
conversion per distinct second, cached), the points of each monitor are
folded into rollup buckets with integer keys, and the raw rows go in with
the fastest bulk path of the database: ``COPY`` on PostgreSQL (psycopg 3),
``executemany`` in one transaction on SQLite.

The upserts add to what is stored (``count = count + excluded.count``), so
any number of processes can flush into the same buckets without losing an
increment. They need ``INSERT ... ON CONFLICT``: SQLite 3.24+ or PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models, transaction

from monitoring.storage.rollups import FLOAT_MAX, Aggregator, dimension_key, dimension_value

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from monitoring.models import MonitorBase

__all__ = [
    "MODELS",
    "SUPPORTED_VENDORS",
    "apply_rollups",
    "created_texts",
    "register_model",
    "write_points",
]

#: Database backends whose SQL the upserts are written in.
SUPPORTED_VENDORS = ("sqlite", "postgresql")

_ROLLUP_KEY = ("monitor", "resolution", "start", "dimensions")


def _quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def _clamped_sum(table: str, column: str) -> str:
    """Return SQL adding ``excluded.column`` to ``table.column`` without overflowing a double.

    PostgreSQL raises "value out of range" on overflow and SQLite stores
    infinity, which JSON can't carry: the sum sticks at the largest double.
    """
    a, b, top = f"{table}.{column}", f"excluded.{column}", repr(FLOAT_MAX)
    return (
        f"CASE WHEN {a} > 0 AND {b} > {top} - {a} THEN {top} "
        f"WHEN {a} < 0 AND {b} < -{top} - {a} THEN -{top} ELSE {a} + {b} END"
    )


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
        f"{q('sum')} = {_clamped_sum(table, q('sum'))}, "
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


def created_texts(connection: BaseDatabaseWrapper) -> Callable[[Iterable[int]], list[str]]:
    """Return a function from Unix times in ns to the texts the ``created`` column stores.

    As Django writes them: with ``USE_TZ`` the UTC time (SQLite: in the
    connection's zone, naive text), without it the site's wall-clock time.
    Whole seconds are formatted once and cached; microseconds are appended
    only when not zero, as ``str(datetime)`` does, so text comparisons on
    SQLite agree with rows Django wrote itself. One loop for a whole batch:
    this runs once per raw row.
    """
    from monitoring.buckets import site_timezone

    if settings.USE_TZ:
        zone = connection.timezone if connection.vendor == "sqlite" else dt.timezone.utc
        suffix = "" if connection.vendor == "sqlite" else "+00:00"
    else:
        zone, suffix = site_timezone(), ""
    seconds: dict[int, tuple[str, str]] = {}

    def format_second(second: int) -> tuple[str, str]:
        if len(seconds) > 100_000:
            seconds.clear()
        text = dt.datetime.fromtimestamp(second, zone).replace(tzinfo=None).isoformat(" ")
        seconds[second] = pair = (text + ".", text + suffix)
        return pair

    def texts(times: Iterable[int]) -> list[str]:
        out: list[str] = []
        append, get = out.append, seconds.get
        for ns in times:
            us = ns // 1000
            second = us // 1_000_000
            pair = get(second) or format_second(second)
            fraction = us - second * 1_000_000
            if fraction:
                # str() of 1_000_000 + fraction is the zero-padded fraction behind a "1".
                append(pair[0] + str(1_000_000 + fraction)[1:] + suffix)
            else:
                append(pair[1])
        return out

    return texts


class _RawTable:
    """How to insert raw rows of one monitor model on one connection."""

    def __init__(self, model: type[MonitorBase], connection: BaseDatabaseWrapper):
        opts = model._meta
        self.model = model
        self.dimensions = model.dimension_fields()
        self.names = [field.name for field in self.dimensions]
        value_field, created_field = opts.get_field("value"), opts.get_field("created")
        self.columns = [value_field.column, created_field.column] + [
            f.column for f in self.dimensions
        ]
        quoted = ", ".join(_quote(connection, c) for c in self.columns)
        self.table = _quote(connection, opts.db_table)
        self.sql = (
            f"INSERT INTO {self.table} ({quoted}) VALUES ({', '.join(['%s'] * len(self.columns))})"
        )
        self.copy_sql = f"COPY {self.table} ({quoted}) FROM STDIN"
        # Values Django must adapt (dates, decimals, UUIDs) go through the field;
        # str, int, float, bool and None go to the driver as they are.
        self.prep = [
            None if _plain(field) else (lambda v, f=field: f.get_db_prep_save(v, connection))
            for field in self.dimensions
        ]

    def row_dimensions(self, values: tuple) -> tuple:
        if not any(self.prep):
            return values
        return tuple(
            v if prep is None or v is None else prep(v)
            for prep, v in zip(self.prep, values, strict=True)
        )


def _plain(field: models.Field) -> bool:
    return isinstance(
        field,
        (
            models.CharField,
            models.TextField,
            models.IntegerField,
            models.FloatField,
            models.BooleanField,
            models.ForeignKey,
        ),
    ) and not (field.is_relation and not _plain(field.target_field))


def _use_copy(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql" and "psycopg" in sys.modules and _psycopg3()


def _psycopg3() -> bool:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return True


#: Every monitor model class, at the index of its ``_point_key``. Buffered points
#: hold that integer, not the class: a tuple of plain values is left alone by the
#: garbage collector, which otherwise rescans a big buffer over and over.
MODELS: list[type] = []


def register_model(model: type) -> int:
    """Return the key buffered points of ``model`` carry (called when the class is made)."""
    MODELS.append(model)
    return len(MODELS) - 1


def write_points(points: Iterable[tuple], using: str) -> None:
    """Write (model key, value, time_ns, dimension values) points to ``using`` in one transaction.

    Every point becomes a raw row of its model. The points of a registered
    model also go into its monitor's rollups; a model that no monitor uses
    gets its raw rows only (``monitoring_rebuild`` can roll them up later).
    Raise the database's error: the caller tells refused rows from an
    unavailable database.
    """
    from monitoring.register import monitor

    connection = connections[using]
    groups: dict[int, list[tuple]] = {}
    for point in points:
        group = groups.get(point[0])
        if group is None:
            group = groups[point[0]] = []
        group.append(point)
    texts = created_texts(connection)
    copy = _use_copy(connection)
    raw: list[tuple[_RawTable, list[tuple] | str]] = []
    rollups: list[tuple[str, Aggregator]] = []
    for key, group in groups.items():
        model = MODELS[key]
        table = _RawTable(model, connection)
        handle = monitor.get_for_model(model)
        rows: list[tuple] | str
        if table.dimensions:
            created = texts([point[2] for point in group])
            rows = [
                (point[1], at, *table.row_dimensions(point[3]))
                for point, at in zip(group, created, strict=True)
            ]
        elif copy:
            # COPY's text format straight away: a number and a timestamp need no
            # escaping, and one write beats a write_row() call per row.
            created = texts([point[2] for point in group])
            rows = "".join(
                [f"{point[1]}\t{at}\n" for point, at in zip(group, created, strict=True)]
            )
        else:
            rows = list(
                zip([point[1] for point in group], texts([p[2] for p in group]), strict=True)
            )
        raw.append((table, rows))
        if handle is not None:
            rollups.append((handle.name, fold(model, group)))

    with transaction.atomic(using=using), connection.cursor() as cursor:
        for table, rows in raw:
            if copy:
                # psycopg's own cursor: wrap its errors as Django's, like execute() does.
                with connection.wrap_database_errors, cursor.cursor.copy(table.copy_sql) as stream:
                    if isinstance(rows, str):
                        stream.write(rows)
                    else:
                        for row in rows:
                            stream.write_row(row)
            else:
                cursor.executemany(table.sql, rows)
        for name, aggregator in sorted(rollups, key=lambda item: item[0]):
            apply_rollups(cursor, name, aggregator)


def fold(model: type[MonitorBase], points: list[tuple]) -> Aggregator:
    """Fold buffered points of one model into an Aggregator, one key per dimension values."""
    aggregator = Aggregator(model.kind == "duration")
    fields = model.dimension_fields()
    if not fields:
        aggregator.add_many((ns // 1000 for _, _, ns, _ in points), (p[1] for p in points), "")
        return aggregator
    names = [field.name for field in fields]
    by_key: dict[tuple, tuple[list[int], list[float]]] = {}
    for _, value, ns, dims in points:
        lists = by_key.get(dims)
        if lists is None:
            lists = by_key[dims] = ([], [])
        lists[0].append(ns // 1000)
        lists[1].append(value)
    for dims, (times, values) in by_key.items():
        key = dimension_key(
            names, [dimension_value(f, v) for f, v in zip(fields, dims, strict=True)]
        )
        aggregator.add_many(times, values, key)
    return aggregator
