"""Keep rollups in step with rows written past ``add()``: ``create()``, ``save()``, ``delete()``.

The admin, fixtures and your own code may create, change or delete rows of a
monitor model through the ORM. These receivers apply the same change to the
rollups, in the same database and transaction as the row, so a chart always
matches its table. ``bulk_create()``, ``update()``, raw SQL and
``monitoring_prune`` send no signals: after those, run ``monitoring_rebuild``.

Removing a point subtracts it from the count and sum (and its histogram
bin); a bucket's min, max and last stay as they were until a rebuild, since
they can't be recomputed without reading every row of the bucket. A bucket
left with no points is deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save, pre_save

from monitoring.storage.rollups import Aggregator, dimension_key, dimension_value, epoch_us
from monitoring.storage.writer import apply_rollups

if TYPE_CHECKING:
    from monitoring.models import MonitorBase

__all__ = ["connect_model_signals"]


def connect_model_signals() -> None:
    """Connect the receivers for every installed concrete monitor model."""
    from monitoring.storage.maintenance import monitor_models

    for model in monitor_models():
        uid = f"monitoring.rollups.{model._meta.label_lower}"
        pre_save.connect(_remember_old_row, sender=model, dispatch_uid=uid)
        post_save.connect(_saved, sender=model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid)


def _point(instance: MonitorBase) -> tuple[int, float, str]:
    """Return (time in µs, value, dimension key) of a row, as a rebuild would fold it."""
    model = type(instance)
    fields = model.dimension_fields()
    key = ""
    if fields:
        key = dimension_key(
            [field.name for field in fields],
            [dimension_value(field, getattr(instance, field.attname)) for field in fields],
        )
    return epoch_us(instance.created), instance.value, key


def _remember_old_row(sender: type[MonitorBase], instance: MonitorBase, **kwargs: Any) -> None:
    if instance._state.adding or instance.pk is None or kwargs.get("raw"):
        return
    from monitoring.register import monitor

    if monitor.get_for_model(sender) is None:
        return
    using = kwargs.get("using") or instance._state.db
    old = sender._base_manager.using(using).filter(pk=instance.pk).first()
    instance._monitoring_old_point = _point(old) if old is not None else None


def _saved(
    sender: type[MonitorBase], instance: MonitorBase, created: bool, using: str, **kwargs: Any
) -> None:
    from monitoring.register import monitor

    handle = monitor.get_for_model(sender)
    if handle is None:
        return
    old = instance.__dict__.pop("_monitoring_old_point", None)
    with transaction.atomic(using=using):
        if old is not None:
            _subtract(handle.name, sender, old, using)
        _apply(handle.name, sender, _point(instance), using)


def _deleted(sender: type[MonitorBase], instance: MonitorBase, using: str, **kwargs: Any) -> None:
    from monitoring.register import monitor

    handle = monitor.get_for_model(sender)
    if handle is None:
        return
    with transaction.atomic(using=using):
        _subtract(handle.name, sender, _point(instance), using)


def _aggregate(model: type[MonitorBase], point: tuple[int, float, str]) -> Aggregator:
    aggregator = Aggregator(model.kind == "duration")
    us, value, key = point
    aggregator.add(us, value, key)
    return aggregator


def _apply(name: str, model: type[MonitorBase], point: tuple, using: str) -> None:
    with connections[using].cursor() as cursor:
        apply_rollups(cursor, name, _aggregate(model, point))


def _subtract(name: str, model: type[MonitorBase], point: tuple, using: str) -> None:
    from monitoring.models import Rollup, RollupBin

    rows, bins = _aggregate(model, point).finish()
    connection = connections[using]
    q = connection.ops.quote_name
    rollup, rollup_bin = q(Rollup._meta.db_table), q(RollupBin._meta.db_table)
    key = f"{q('monitor')} = %s AND {q('resolution')} = %s AND {q('start')} = %s AND "
    key += f"{q('dimensions')} = %s"
    with connection.cursor() as cursor:
        for (resolution, start, dims), row in rows.items():
            params = [name, resolution, start, dims]
            cursor.execute(
                f"UPDATE {rollup} SET {q('count')} = {q('count')} - %s, "
                f"{q('sum')} = {q('sum')} - %s WHERE {key}",
                [row[0], row[1], *params],
            )
            cursor.execute(f"DELETE FROM {rollup} WHERE {key} AND {q('count')} <= 0", params)
        for (resolution, start, dims, index), count in bins.items():
            params = [name, resolution, start, dims, index]
            where = f"{key} AND {q('bin')} = %s"
            cursor.execute(
                f"UPDATE {rollup_bin} SET {q('count')} = {q('count')} - %s WHERE {where}",
                [count, *params],
            )
            cursor.execute(f"DELETE FROM {rollup_bin} WHERE {where} AND {q('count')} <= 0", params)
