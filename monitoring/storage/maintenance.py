"""Keep the tables in shape: prune old data, rebuild rollups from raw rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from monitoring.conf import conf
from monitoring.storage.rollups import Aggregator, dimension_key, dimension_value, epoch_us
from monitoring.storage.writer import apply_rollups

if TYPE_CHECKING:
    from monitoring.models import MonitorBase
    from monitoring.register import Monitor

__all__ = ["monitor_models", "prune", "rebuild"]

#: Rows deleted per statement when pruning without a limit.
PRUNE_SLICE = 10_000


def monitor_models() -> list[type[MonitorBase]]:
    """Return every installed concrete model built on a monitoring base."""
    from monitoring.models import MonitorBase

    return [
        model
        for model in apps.get_models()
        if issubclass(model, MonitorBase) and not model._meta.proxy
    ]


def _delete(
    queryset: models.QuerySet,
    limit: int | None,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Delete the rows of ``queryset`` in slices, at most ``limit``; return how many.

    ``progress(deleted)`` is called after each slice.
    """
    if dry_run:
        count = queryset.count()
        return count if limit is None else min(count, limit)
    deleted = 0
    while limit is None or deleted < limit:
        size = PRUNE_SLICE if limit is None else min(PRUNE_SLICE, limit - deleted)
        pks = list(queryset.values_list("pk", flat=True)[:size])
        if not pks:
            break
        # _raw_delete: one DELETE, no signals and no collection of related rows,
        # which monitoring's own tables and raw data points don't have.
        deleted += (
            queryset.model._base_manager.using(queryset.db)
            .filter(pk__in=pks)
            ._raw_delete(queryset.db)
        )
        if progress is not None:
            progress(deleted)
        if len(pks) < size:
            break
    return deleted


def prune(
    *,
    now: dt.datetime | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Delete raw rows and rollups older than ``MONITORING_RETENTION``.

    Return how many rows went (or, with ``dry_run``, would go) per table and
    resolution. ``limit`` caps the rows deleted per table, so a call takes a
    bounded time; the background thread prunes that way. With
    ``progress(table, deleted, total)``, the rows to delete are counted
    first, and it is called after every slice of a table that has some.
    """

    def delete(label: str, queryset: models.QuerySet) -> int:
        if progress is None or dry_run:
            return _delete(queryset, limit, dry_run)
        total = queryset.count()
        total = total if limit is None else min(total, limit)
        if not total:
            return 0
        return _delete(queryset, limit, dry_run, lambda done: progress(label, done, total))

    from monitoring.models import Rollup, RollupBin

    alias = conf.DATABASE
    retention = conf.RETENTION
    now = now or timezone.now()
    result: dict[str, int] = {}
    if retention.get("raw") is not None:
        cutoff = now - dt.timedelta(days=retention["raw"])
        from monitoring.models import Sample

        # The readings of sampled gauges are raw rows too, kept as long.
        for model in [*monitor_models(), Sample]:
            queryset = model._base_manager.using(alias).filter(created__lt=cutoff)
            label = f"{model._meta.label} (raw)"
            result[label] = delete(label, queryset)
    for resolution in ("minute", "hour", "day"):
        days = retention.get(resolution)
        if days is None:
            continue
        cutoff_s = epoch_us(now - dt.timedelta(days=days)) // 1_000_000
        for model in (Rollup, RollupBin):
            queryset = model._base_manager.using(alias).filter(
                resolution=resolution, start__lt=cutoff_s
            )
            label = f"{model._meta.label} ({resolution})"
            result[label] = delete(label, queryset)
    return result


def _bounds(since: dt.datetime | None) -> tuple[int | None, int | None]:
    """Return (minute_from, day_from) in Unix seconds for a rebuild from ``since``.

    Whole buckets are rebuilt: from the start of the local day holding
    ``since``, and for minutes and hours from the UTC hour holding that start.
    """
    if since is None:
        return None, None
    from monitoring.buckets import floor_bucket

    day = floor_bucket(since, "day")
    hour = floor_bucket(day, "hour")
    return int(hour.timestamp()), int(day.timestamp())


def _end_bounds(until: dt.datetime | None) -> tuple[int | None, int | None]:
    """Return (minute_until, day_until) in Unix seconds for a rebuild up to ``until``.

    Whole buckets again, the mirror of :func:`_bounds`: up to the end of the
    local day holding ``until``, and for minutes and hours up to the end of
    the UTC hour holding that end. Both are exclusive.
    """
    if until is None:
        return None, None
    from monitoring.buckets import floor_bucket, next_bucket

    day_end = next_bucket(floor_bucket(until, "day"), "day")
    hour = floor_bucket(day_end, "hour")
    if hour < day_end:
        hour = next_bucket(hour, "hour")
    return int(hour.timestamp()), int(day_end.timestamp())


def _oldest_rebuildable(rows: Any) -> dt.datetime | None:
    """Return where a rebuild without ``since`` starts: the first day the raw rows cover.

    Rollups before the oldest raw row can't be recomputed, so they are kept.
    When that row lies within a day after the raw retention cutoff, pruning
    has likely taken the earlier rows of its day, so the rebuild starts at
    the next local day and keeps that day's rollups as they are.
    """
    from monitoring.buckets import floor_bucket, next_bucket, to_utc

    oldest = rows.aggregate(first=Min("created"))["first"]
    if oldest is None:
        return None
    if timezone.is_naive(oldest):
        from monitoring.buckets import site_timezone

        oldest = timezone.make_aware(oldest, site_timezone())
    raw_days = conf.RETENTION.get("raw") if isinstance(conf.RETENTION, dict) else None
    if raw_days is not None:
        # Aware: now() is naive with USE_TZ = False, and oldest is aware.
        cutoff = to_utc(timezone.now()) - dt.timedelta(days=raw_days)
        if cutoff <= oldest < cutoff + dt.timedelta(days=1):
            return next_bucket(floor_bucket(oldest, "day"), "day")
    return oldest


def _db_datetime(seconds: int) -> dt.datetime:
    """Return Unix time ``seconds`` as the datetimes raw rows store (naive without USE_TZ)."""
    at = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    if settings.USE_TZ:
        return at
    from monitoring.buckets import site_timezone

    return timezone.make_naive(at, site_timezone())


def rebuild(
    handles: Iterable[Monitor],
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    batch_size: int = 10_000,
    progress: Callable[[Monitor, int, int], None] | None = None,
) -> dict[str, int]:
    """Recompute the rollups of ``handles`` from their raw rows; return rows read per monitor.

    Rollups from ``since`` on (without it, from the first day the raw rows
    still cover; older rollups are kept) are deleted and rebuilt in batches
    of ``batch_size`` raw rows, so memory stays bounded, all in one
    transaction per monitor: readers see the old totals until the new ones
    are complete. With ``until``, only the buckets up to the end of the
    local day holding it are rebuilt; later ones are left as they are.
    Points flushed while a rebuild runs are counted exactly once: flushes of
    the monitor's model wait for the rebuild to commit (SQLite's write lock;
    on PostgreSQL, a ``SHARE ROW EXCLUSIVE`` lock of its raw table).
    ``progress(handle, done, total)`` is called after each batch.
    """
    from monitoring.models import MonitorBase

    # Charts of existing tables (register_model()) have no rollups to rebuild, and
    # sampled gauges no raw rows of their own model to rebuild them from.
    return {
        handle.name: _rebuild_one(handle, since, until, batch_size, progress)
        for handle in handles
        if handle.stored and issubclass(handle.model, MonitorBase)
    }


def _rebuild_one(
    handle: Monitor,
    since: dt.datetime | None,
    until: dt.datetime | None,
    batch_size: int,
    progress: Callable[[Monitor, int, int], None] | None,
) -> int:
    from monitoring.models import Rollup, RollupBin

    alias = conf.DATABASE
    model = handle.model
    rows = model._base_manager.using(alias)
    if since is None:
        since = _oldest_rebuildable(rows)
        if since is None:
            # No raw rows at all: nothing can be recomputed, so nothing is deleted.
            return 0
    minute_from, day_from = _bounds(since)
    minute_until, day_until = _end_bounds(until)
    if minute_from is not None:
        rows = rows.filter(created__gte=_db_datetime(minute_from))
    if minute_until is not None:
        rows = rows.filter(created__lt=_db_datetime(minute_until))
    # One transaction: readers see the old rollups until the new ones are complete,
    # never a partial total.
    with transaction.atomic(using=alias):
        connection = connections[alias]
        if connection.vendor == "postgresql":
            # Wait for the flushes that wrote raw rows of this model to commit, and keep
            # new ones (and other rebuilds) out until this one does. Without it, a flush
            # committing between the delete below and the read of the raw rows would be
            # counted twice where it made new buckets: once by itself, once by the rebuild.
            # SQLite's delete takes the database's write lock, which does the same.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} "
                    "IN SHARE ROW EXCLUSIVE MODE"
                )
        for table in (Rollup, RollupBin):
            stale = table._base_manager.using(alias).filter(monitor=handle.name)
            if minute_from is not None:
                stale = stale.filter(
                    Q(resolution="day", start__gte=day_from)
                    | (~Q(resolution="day") & Q(start__gte=minute_from))
                )
            if minute_until is not None:
                stale = stale.filter(
                    Q(resolution="day", start__lt=day_until)
                    | (~Q(resolution="day") & Q(start__lt=minute_until))
                )
            stale._raw_delete(alias)
        # Read after the delete: on SQLite this transaction now holds the write
        # lock, so no flush can slip a row in between.
        last_pk = rows.aggregate(last=Max("pk"))["last"]
        if last_pk is None:
            return 0
        rows = rows.filter(pk__lte=last_pk).order_by("pk")
        total = rows.count()
        dimensions = model.dimension_fields()
        names = [field.name for field in dimensions]
        columns = ["pk", "created", "value"] + [field.attname for field in dimensions]
        duration = model.kind == "duration"
        done, after = 0, None
        while True:
            batch_rows = rows if after is None else rows.filter(pk__gt=after)
            batch = list(batch_rows.values_list(*columns)[:batch_size])
            if not batch:
                break
            aggregator = Aggregator(
                duration, minute_from=minute_from, day_from=day_from, day_until=day_until
            )
            for _, created, value, *values in batch:
                if dimensions:
                    key = dimension_key(
                        names,
                        [dimension_value(f, v) for f, v in zip(dimensions, values, strict=True)],
                    )
                else:
                    key = ""
                aggregator.add(epoch_us(created), value, key)
            with connections[alias].cursor() as cursor:
                apply_rollups(cursor, handle.name, aggregator)
            done += len(batch)
            after = batch[-1][0]
            if progress is not None:
                progress(handle, done, total)
    return done
