"""Abstract bases for monitor models.

Subclass one of them in your own app; every row of the concrete model is one
data point::

    class MonitorUserCount(IntegerCountBase, models.Model):
        pass

Any field you add to the concrete model, besides ``value`` and ``created``, is
a *dimension*: ``MonitorSignups.add(1, plan="pro")`` stores ``plan``.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import sys
from datetime import datetime
from decimal import Decimal
from time import time_ns as _time_ns
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from monitoring.buckets import site_timezone
from monitoring.exceptions import InvalidDimension
from monitoring.storage.buffer import buffer as _buffer
from monitoring.storage.writer import register_model as _register_model

__all__ = [
    "AlertState",
    "AlertTransition",
    "Annotation",
    "DurationBase",
    "FloatMixin",
    "FloatValueBase",
    "IntegerCountBase",
    "IntegerMixin",
    "IntegerValueBase",
    "Lease",
    "MonitorBase",
    "Rollup",
    "RollupBin",
]

# What add() was given when the caller left out the value.
_MISSING: Any = object()

# Bounds of BigIntegerField on every database Django supports.
_BIGINT_MIN = -(2**63)
_BIGINT_MAX = 2**63 - 1

# The years add() accepts for ``at``.
_EARLIEST_YEAR = 1900
_LATEST_YEAR = 9000

# Offsets databases refuse (PostgreSQL: beyond +-15:59).
_LARGEST_OFFSET = dt.timedelta(hours=16)

_EPOCH = datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ONE_US = dt.timedelta(microseconds=1)

# Where add() hands a validated point: the process's buffer (no hooks run at import).
_record = _buffer.add

# Field names that are part of every data point, so never dimensions.
_BUILTIN_FIELDS = frozenset({"value", "created"})


class MonitorBase(models.Model):
    """The common part of every monitor model: a ``value`` and when it happened.

    Do not subclass this directly; pick the base for the kind of thing you
    measure: :class:`IntegerCountBase`, :class:`IntegerValueBase`,
    :class:`FloatValueBase` or :class:`DurationBase`.
    """

    created = models.DateTimeField(default=timezone.now, db_index=True)

    #: The kind of monitor: ``"count"``, ``"value"`` or ``"duration"``.
    kind: ClassVar[str] = ""
    #: What ``add()`` records when called without a value; ``None`` means a value is required.
    default_value: ClassVar[int | float | None] = None
    # Values of this type within these bounds need no cleaning (add()'s fast path).
    _fast_type: ClassVar[type] = type(None)
    _fast_min: ClassVar[int | float] = 0
    _fast_max: ClassVar[int | float] = 0

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # What buffered points of this model carry instead of the class itself.
        cls._point_key = _register_model(cls)

    def __str__(self) -> str:
        return f"{self.value} at {self.created:%Y-%m-%d %H:%M:%S}"

    # -- dimensions ---------------------------------------------------------

    @classmethod
    def dimension_fields(cls) -> list[models.Field]:
        """Return the model's dimension fields: every concrete field but the key, value, created."""
        # Cached on the class itself (not inherited): add() asks on every call.
        fields = cls.__dict__.get("_monitoring_dimension_fields")
        if fields is None:
            fields = tuple(
                field
                for field in cls._meta.concrete_fields
                if not field.primary_key and field.name not in _BUILTIN_FIELDS
            )
            cls._monitoring_dimension_fields = fields
        return list(fields)

    @classmethod
    def dimension_names(cls) -> list[str]:
        """Return the names of the model's dimensions, in field order."""
        return [field.name for field in cls.dimension_fields()]

    # -- validation ---------------------------------------------------------

    @classmethod
    def clean_value(cls, value: Any) -> int | float:
        """Return ``value`` as the number this model stores, or raise TypeError/ValueError."""
        if value is _MISSING:
            if cls.default_value is None:
                raise TypeError(
                    f"{cls.__name__}.add() needs a value: a {cls.kind} monitor has no default "
                    f"(only counts default to 1)."
                )
            value = cls.default_value
        # The common case first: the abstract base class checks below cost more than
        # the rest of add() together.
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            return cls._coerce_value(value)
        # bool is an int subclass, but True is never a measurement someone meant.
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal)):
            raise TypeError(
                f"{cls.__name__}.add() needs a number for value, "
                f"got {value!r} ({type(value).__name__})."
            )
        if not isinstance(value, numbers.Integral):
            if isinstance(value, Decimal):
                finite = value.is_finite()
            else:
                try:
                    finite = math.isfinite(value)
                except OverflowError:
                    finite = False
            if not finite:
                raise ValueError(
                    f"{cls.__name__}.add() needs a finite number for value, got {value!r}."
                )
        return cls._coerce_value(value)

    @classmethod
    def _coerce_value(cls, value: numbers.Real | Decimal) -> int | float:
        raise NotImplementedError  # pragma: no cover - every concrete base defines it

    @classmethod
    def clean_at(cls, at: datetime | None) -> datetime:
        """Return when the point happened: ``at``, or now when ``at`` is None.

        Raise TypeError or ValueError for what no database would store: a
        non-datetime, a naive datetime while ``USE_TZ`` is on, a UTC offset
        of 16 hours or more, a year outside 1900-9000.
        """
        if at is None:
            return timezone.now()
        if not isinstance(at, datetime):
            raise TypeError(
                f"{cls.__name__}.add() needs a datetime for at, got {at!r} ({type(at).__name__})."
            )
        offset = at.utcoffset()
        if offset is not None and abs(offset) >= _LARGEST_OFFSET:
            raise ValueError(
                f"{cls.__name__}.add() got at={at.isoformat()}, whose UTC offset is "
                f"{offset}; databases accept offsets below 16 hours."
            )
        if settings.USE_TZ:
            if offset is None:
                raise ValueError(
                    f"{cls.__name__}.add() got a naive datetime for at ({at.isoformat()}) "
                    f"while USE_TZ is True; pass an aware one, such as timezone.now()."
                )
        elif offset is not None:
            at = timezone.make_naive(at, site_timezone())
        # Buckets are computed in UTC and in the site's zone: a time within a day of
        # datetime.min or .max would overflow there, long after add() returned.
        if not _EARLIEST_YEAR <= at.year <= _LATEST_YEAR:
            raise ValueError(
                f"{cls.__name__}.add() got at={at.isoformat()}; the year must be from "
                f"{_EARLIEST_YEAR} to {_LATEST_YEAR}."
            )
        return at

    @classmethod
    def _at_ns(cls, at: datetime) -> int:
        """Return a validated ``at`` as Unix time in ns; naive means the site's time zone."""
        at = cls.clean_at(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=site_timezone())
        return (at - _EPOCH) // _ONE_US * 1000

    @classmethod
    def clean_dimensions(cls, dimensions: dict[str, Any]) -> dict[str, Any]:
        """Return the dimensions validated by their model fields, or raise TypeError/ValueError.

        A ForeignKey dimension comes back as the related row's key.
        """
        values = cls._dimension_values(dimensions)
        if values is None:
            return {}
        return {
            name: value
            for name, value in zip(cls.dimension_names(), values, strict=True)
            if name in dimensions
        }

    @classmethod
    def _dimension_values(cls, dimensions: dict[str, Any]) -> tuple | None:
        """Return every dimension's cleaned value in field order (defaults filled in).

        Values of plain types are cleaned once and cached per field: most calls
        repeat a few values, and a field's clean() costs more than the rest of add().
        """
        spec = _SPECS.get(cls)
        if spec is None:
            spec = _SPECS[cls] = _DimensionSpec(cls)
        if not spec.fields:
            if dimensions:
                cls._unknown_dimensions(dimensions, spec)
            return None
        values = []
        used = 0
        for name, field, cache in spec.fields:
            value = dimensions.get(name, _MISSING)
            if value is _MISSING:
                if field.has_default():
                    values.append(_clean_dimension(cls, field, field.get_default()))
                elif field.null:
                    values.append(None)
                else:
                    raise TypeError(
                        f"{cls.__name__}.add() is missing the dimension {name!r}, "
                        f"which has no default."
                    )
                continue
            used += 1
            kind = value.__class__
            if kind in _CACHEABLE:
                key = (kind, value)
                try:
                    values.append(cache[key])
                    continue
                except KeyError:
                    pass
                cleaned = _clean_dimension(cls, field, value)
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[key] = cleaned
                values.append(cleaned)
            else:
                values.append(_clean_dimension(cls, field, value))
        if used != len(dimensions):
            cls._unknown_dimensions(dimensions, spec)
        return tuple(values)

    @classmethod
    def _unknown_dimensions(cls, dimensions: dict[str, Any], spec: _DimensionSpec) -> None:
        names = [name for name, _, _ in spec.fields]
        unknown = sorted(set(dimensions) - set(names))
        valid = ", ".join(repr(name) for name in names) or "none"
        raise TypeError(
            f"{cls.__name__}.add() got unknown dimension(s) "
            f"{', '.join(repr(name) for name in unknown)}; valid dimensions: {valid}."
        )

    # -- writing ------------------------------------------------------------

    @classmethod
    def add(cls, value: Any = _MISSING, at: datetime | None = None, **dimensions: Any) -> None:
        """Record one data point, or raise TypeError/ValueError and record nothing.

        ``value`` defaults to 1 for counts and is required for the other kinds;
        ``at`` defaults to now; keyword arguments set the model's dimensions.

        The caller's thread only validates and captures value, time and
        dimensions; everything else happens when the buffer is flushed.
        """
        # The hot path: a plain number in range skips clean_value().
        if not (value.__class__ is cls._fast_type and cls._fast_min <= value <= cls._fast_max):
            value = cls.clean_value(value)
        _record(
            cls,
            value,
            _time_ns() if at is None else cls._at_ns(at),
            cls._dimension_values(dimensions) if dimensions or cls not in _NO_DIMENSIONS else None,
        )


class _DimensionSpec:
    """The dimension fields of a model with a cache of cleaned values per field."""

    def __init__(self, model: type[MonitorBase]):
        self.fields = [(field.name, field, {}) for field in model.dimension_fields()]
        if not self.fields:
            _NO_DIMENSIONS.add(model)


# Per model: its dimension fields and caches. Filled on first use, never at import.
_SPECS: dict[type, _DimensionSpec] = {}
# Models known to have no dimensions: their add() without keywords skips the spec.
_NO_DIMENSIONS: set[type] = set()
# Types whose values are cached once cleaned: hashable, immutable, and compared with
# their type so 1, 1.0 and True stay apart.
_CACHEABLE = frozenset({str, int, float, bool, type(None)})
# Cleaned values kept per field; past it the cache starts over.
_CACHE_SIZE = 1024
# Values a dimension never takes: they would be stored as their repr().
_CONTAINERS = (list, tuple, dict, set, frozenset, bytes, bytearray)


def _dimension_error(model: type, name: str, value: Any, problem: str) -> InvalidDimension:
    return InvalidDimension(
        f"{model.__name__}.add() got an invalid value for dimension {name!r}: {value!r} "
        f"({problem})",
        problem,
    )


def _clean_dimension(model: type, field: models.Field, value: Any) -> Any:
    """Return one dimension value as stored and rolled up, or raise ValueError.

    One canonical value per meaning: ``"1"``, ``1`` and a saved instance with
    pk 1 are the same customer, so they share a rollup key.
    """
    name = field.name
    if value is None:
        if field.null:
            return None
        raise _dimension_error(model, name, value, "this dimension is not nullable")
    if isinstance(value, _CONTAINERS):
        raise _dimension_error(model, name, value, f"a {type(value).__name__} is not a value")
    if field.is_relation:
        return _clean_related(model, field, value)
    if isinstance(value, models.Model):
        raise _dimension_error(model, name, value, "a model instance is not a value")
    if isinstance(field, (models.IntegerField, models.FloatField)) and isinstance(value, bool):
        raise _dimension_error(model, name, value, "True and False are not numbers")
    if (
        isinstance(field, models.IntegerField)
        and isinstance(value, float)
        and not value.is_integer()
    ):
        raise _dimension_error(model, name, value, "a whole number is needed")
    try:
        value = field.clean(value, None)
    except ValidationError as exc:
        raise _dimension_error(model, name, value, "; ".join(exc.messages)) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _dimension_error(model, name, value, "NaN and infinity cannot be stored")
        if value == 0:
            value = 0.0  # one value, one key: -0.0 is 0.0

    # PostgreSQL refuses NUL in text; refuse it here, where the caller sees it.
    if isinstance(value, str) and "\x00" in value:
        raise _dimension_error(model, name, value, "null characters are not allowed")
    return value


def _clean_related(model: type, field: models.Field, value: Any) -> Any:
    """Return a ForeignKey dimension as the related row's key: a saved instance or a key."""
    name, related, target = field.name, field.related_model, field.target_field
    if isinstance(value, models.Model):
        if not isinstance(value, related):
            raise _dimension_error(
                model, name, value, f"an instance of {related._meta.label} is needed"
            )
        if value._state.adding or value.pk is None:
            raise _dimension_error(model, name, value, "the instance is not saved")
        value = getattr(value, target.attname)
    if isinstance(value, (bool, float, Decimal)):
        raise _dimension_error(
            model, name, value, f"a key of {related._meta.label} or a saved instance is needed"
        )
    if isinstance(target, (models.IntegerField, models.AutoField)):
        if isinstance(value, str):
            text = value.strip()
            if not text.lstrip("+-").isdigit():
                raise _dimension_error(
                    model, name, value, f"a key of {related._meta.label} is a whole number"
                )
            value = int(text)
        if not isinstance(value, int):
            raise _dimension_error(
                model, name, value, f"a key of {related._meta.label} is a whole number"
            )
        if not _BIGINT_MIN <= value <= _BIGINT_MAX:
            raise _dimension_error(model, name, value, "outside the 64-bit range")
        return value
    try:
        value = target.to_python(value)
        target.run_validators(value)
    except ValidationError as exc:
        raise _dimension_error(model, name, value, "; ".join(exc.messages)) from None
    if isinstance(value, str) and "\x00" in value:
        raise _dimension_error(model, name, value, "null characters are not allowed")
    return value


class IntegerMixin:
    """Store whole numbers in ``value``: the part of the integer bases that migrations name.

    ``makemigrations`` writes the bases of a monitor model into your
    migration, so this name stays stable. (``_IntegerMixin``, the name of
    older releases, is kept for migrations that already use it.)
    """

    _fast_type: ClassVar[type] = int
    _fast_min: ClassVar[int] = _BIGINT_MIN
    _fast_max: ClassVar[int] = _BIGINT_MAX

    @classmethod
    def _coerce_value(cls, value: numbers.Real | Decimal) -> int:
        # type() first: isinstance() against the numbers ABCs is slow.
        if (
            type(value) is not int
            and not isinstance(value, numbers.Integral)
            and value != int(value)
        ):
            raise ValueError(
                f"{cls.__name__} stores whole numbers; got {value!r}. "
                f"Use FloatValueBase for fractional readings."
            )
        number = int(value)
        if not _BIGINT_MIN <= number <= _BIGINT_MAX:
            raise ValueError(f"{cls.__name__}.add() got {number}, outside the 64-bit range.")
        return number


class FloatMixin:
    """Store floats in ``value``: the part of the float bases that migrations name.

    A stable public name, like :class:`IntegerMixin` (``_FloatMixin`` is kept).
    """

    _fast_type: ClassVar[type] = float
    _fast_min: ClassVar[float] = -sys.float_info.max
    _fast_max: ClassVar[float] = sys.float_info.max

    @classmethod
    def _coerce_value(cls, value: numbers.Real | Decimal) -> float:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"{cls.__name__}.add() got {value!r}, too large for a float.")
        return number


# The names older migrations import.
_IntegerMixin = IntegerMixin
_FloatMixin = FloatMixin


class IntegerCountBase(IntegerMixin, MonitorBase):
    """Count events: each row says ``value`` things happened at ``created``.

    Charts show the sum per bucket. ``add()`` with no value counts one event.
    """

    value = models.BigIntegerField(default=1)

    kind: ClassVar[str] = "count"
    default_value: ClassVar[int | None] = 1

    class Meta:
        abstract = True


class IntegerValueBase(IntegerMixin, MonitorBase):
    """Record whole-number readings of a gauge, such as a queue length.

    Charts show the average, minimum, maximum and last reading per bucket.
    """

    value = models.BigIntegerField()

    kind: ClassVar[str] = "value"

    class Meta:
        abstract = True


class FloatValueBase(FloatMixin, MonitorBase):
    """Record readings of a gauge that may be fractional, such as a load average.

    Charts show the average, minimum, maximum and last reading per bucket.
    """

    value = models.FloatField()

    kind: ClassVar[str] = "value"

    class Meta:
        abstract = True


class DurationBase(FloatMixin, MonitorBase):
    """Record timings in milliseconds, such as how long a task took.

    Use ``monitor.get(name).time()`` as a context manager or decorator to
    measure a block of code.
    """

    value = models.FloatField(help_text="Duration in milliseconds.")

    kind: ClassVar[str] = "duration"
    _fast_min: ClassVar[float] = 0.0

    class Meta:
        abstract = True

    @classmethod
    def _coerce_value(cls, value: numbers.Real | Decimal) -> float:
        number = super()._coerce_value(value)
        if number < 0:
            raise ValueError(f"{cls.__name__}.add() got a negative duration ({number} ms).")
        return number


#: The concrete bases a monitor model must be built on.
MONITOR_BASES: tuple[type[MonitorBase], ...] = (
    IntegerCountBase,
    IntegerValueBase,
    FloatValueBase,
    DurationBase,
)


# -- the app's own tables: rollups ----------------------------------------------

RESOLUTION_CHOICES = [("minute", "minute"), ("hour", "hour"), ("day", "day")]


class Rollup(models.Model):
    """One bucket of one monitor: the aggregates of its data points, for charts.

    Written only by ``monitoring.storage`` through atomic upserts that add to
    the stored row, so concurrent processes never lose increments.
    ``dimensions`` is the canonical JSON of the points' dimension values
    (sorted keys), ``""`` for a model without dimensions. ``start`` and
    ``last_at`` are Unix times (seconds, and microseconds), so buckets never
    depend on the database's time zone handling.
    """

    monitor = models.CharField(max_length=100)
    resolution = models.CharField(max_length=6, choices=RESOLUTION_CHOICES)
    start = models.BigIntegerField(help_text="Start of the bucket, seconds since the Unix epoch.")
    dimensions = models.TextField(blank=True, default="")
    count = models.BigIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()
    last = models.FloatField()
    last_at = models.BigIntegerField(help_text="When ``last`` was added, microseconds since epoch.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "resolution", "start", "dimensions"],
                name="monitoring_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor} {self.resolution} {self.start} {self.dimensions}: {self.count}"


class RollupBin(models.Model):
    """How many timings of a duration bucket fell in one log-spaced histogram bin.

    Kept apart from :class:`Rollup`, one row per bin, so that bins merge by
    the same atomic ``count = count + excluded.count`` upsert.
    """

    monitor = models.CharField(max_length=100)
    resolution = models.CharField(max_length=6, choices=RESOLUTION_CHOICES)
    start = models.BigIntegerField()
    dimensions = models.TextField(blank=True, default="")
    bin = models.IntegerField()
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["monitor", "resolution", "start", "dimensions", "bin"],
                name="monitoring_rollupbin_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.monitor} {self.resolution} {self.start} bin {self.bin}: {self.count}"


# -- the app's own tables: alert state and annotations ----------------------------


class AlertState(models.Model):
    """Where one alert rule stands: ok, pending (breached, waiting ``for_``) or firing.

    One row per rule name, written by the evaluator. A state changes only by
    a compare-and-set on ``(state, since)``, so of two processes that see
    the same transition, exactly one records it and delivers it.
    """

    OK = "ok"
    PENDING = "pending"
    FIRING = "firing"
    STATES = [(OK, "ok"), (PENDING, "pending"), (FIRING, "firing")]

    rule = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=7, choices=STATES, default=OK)
    since = models.DateTimeField(help_text="When the rule entered its state.")
    value = models.FloatField(null=True, blank=True, help_text="The value last evaluated.")
    evaluated = models.DateTimeField(null=True, blank=True, help_text="When it was evaluated.")

    class Meta:
        verbose_name = "alert state"

    def __str__(self) -> str:
        return f"{self.rule}: {self.state}"


class AlertTransition(models.Model):
    """One change of an alert rule's state, with what was delivered for it.

    Transitions to firing, and from firing back to ok (resolved), are
    emailed: ``emailed`` is set once the email went out, and ``attempts``
    counts the tries, each claimed by a compare-and-set so that one process
    sends it.
    """

    rule = models.CharField(max_length=100, db_index=True)
    previous = models.CharField(max_length=7, choices=AlertState.STATES)
    state = models.CharField(max_length=7, choices=AlertState.STATES)
    at = models.DateTimeField(db_index=True)
    value = models.FloatField(null=True, blank=True)
    threshold = models.CharField(max_length=200, blank=True, default="")
    notify = models.BooleanField(default=False, help_text="Whether it is emailed.")
    emailed = models.DateTimeField(null=True, blank=True)
    claimed = models.DateTimeField(null=True, blank=True, help_text="When a process took it.")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "alert transition"

    def __str__(self) -> str:
        return f"{self.rule}: {self.previous} -> {self.state} at {self.at.isoformat()}"

    @property
    def kind(self) -> str:
        """Return ``"fired"``, ``"resolved"`` or the new state, as the history shows it."""
        if self.state == AlertState.FIRING:
            return "fired"
        if self.previous == AlertState.FIRING:
            return "resolved"
        return self.state


class Annotation(models.Model):
    """An event drawn on every chart at its time: a deploy, a migration, an incident."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    text = models.CharField(max_length=500)
    tags = models.JSONField(default=list, blank=True, help_text="A list of short tags.")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at.isoformat()} {self.text}"


class Lease(models.Model):
    """Who may do a piece of cluster-wide work, and until when (see :mod:`monitoring.jobs`).

    Taken and renewed only by compare-and-set updates, so that of several
    processes exactly one holds a lease at a time.
    """

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=200, help_text="host:pid:token of the holding process.")
    expires = models.BigIntegerField(help_text="End of the lease, milliseconds since the epoch.")

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder}"


class Sample(models.Model):
    """One reading of a sampled gauge (``monitor.sample()``), at the start of its tick.

    Unique per monitor and tick, so a tick gets one reading whichever and
    however many processes sample it (see :mod:`monitoring.sampling`). The
    tick is Unix seconds, not ``created``: without ``USE_TZ``, ``created`` is
    the site's wall clock, which repeats an hour when the clocks go back.
    """

    monitor = models.CharField(max_length=100)
    created = models.DateTimeField(db_index=True)
    tick = models.BigIntegerField(help_text="The tick's start, in Unix seconds.")
    value = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "tick"], name="monitoring_sample_key")
        ]

    def __str__(self) -> str:
        return f"{self.monitor}: {self.value} at {self.created:%Y-%m-%d %H:%M:%S}"
