"""Abstract bases for monitor models.

Subclass one of them in your own app; every row of the concrete model is one
data point::

    class MonitorUserCount(IntegerCountBase, models.Model):
        pass

Any field you add to the concrete model, besides ``value`` and ``created``, is
a *dimension*: ``MonitorSignups.add(1, plan="pro")`` stores ``plan``.
"""

from __future__ import annotations

import math
import numbers
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from monitoring import storage
from monitoring.buckets import site_timezone

__all__ = [
    "DurationBase",
    "FloatValueBase",
    "IntegerCountBase",
    "IntegerValueBase",
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

    class Meta:
        abstract = True

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
        """Return when the point happened: ``at``, or now when ``at`` is None."""
        if at is None:
            return timezone.now()
        if not isinstance(at, datetime):
            raise TypeError(
                f"{cls.__name__}.add() needs a datetime for at, got {at!r} ({type(at).__name__})."
            )
        if settings.USE_TZ:
            if timezone.is_naive(at):
                raise ValueError(
                    f"{cls.__name__}.add() got a naive datetime for at ({at.isoformat()}) "
                    f"while USE_TZ is True; pass an aware one, such as timezone.now()."
                )
        elif timezone.is_aware(at):
            # Naive times mean TIME_ZONE (see buckets.to_utc), not a zone a request activated.
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
    def clean_dimensions(cls, dimensions: dict[str, Any]) -> dict[str, Any]:
        """Return the dimensions validated by their model fields, or raise TypeError/ValueError."""
        dimension_fields = cls.dimension_fields()
        if not dimensions and not dimension_fields:
            return {}
        fields = {field.name: field for field in dimension_fields}
        unknown = sorted(set(dimensions) - set(fields))
        if unknown:
            valid = ", ".join(repr(name) for name in fields) or "none"
            raise TypeError(
                f"{cls.__name__}.add() got unknown dimension(s) "
                f"{', '.join(repr(name) for name in unknown)}; valid dimensions: {valid}."
            )
        cleaned = {}
        for name, field in fields.items():
            if name not in dimensions:
                if not field.has_default() and not field.null:
                    raise TypeError(
                        f"{cls.__name__}.add() is missing the dimension {name!r}, "
                        f"which has no default."
                    )
                continue
            value = dimensions[name]
            if not field.is_relation:
                try:
                    value = field.clean(value, None)
                except ValidationError as exc:
                    raise ValueError(
                        f"{cls.__name__}.add() got an invalid value for dimension {name!r}: "
                        f"{value!r} ({'; '.join(exc.messages)})"
                    ) from None
                # PostgreSQL refuses NUL in text; refuse it here, where the caller sees it.
                if isinstance(value, str) and "\x00" in value:
                    raise ValueError(
                        f"{cls.__name__}.add() got an invalid value for dimension {name!r}: "
                        f"{value!r} (null characters are not allowed)"
                    )
            cleaned[name] = value
        return cleaned

    # -- writing ------------------------------------------------------------

    @classmethod
    def add(cls, value: Any = _MISSING, at: datetime | None = None, **dimensions: Any) -> None:
        """Record one data point, or raise TypeError/ValueError and record nothing.

        ``value`` defaults to 1 for counts and is required for the other kinds;
        ``at`` defaults to now; keyword arguments set the model's dimensions.
        """
        point_value = cls.clean_value(value)
        point_at = cls.clean_at(at)
        point_dimensions = cls.clean_dimensions(dimensions)
        storage.record(cls, point_value, point_at, point_dimensions)


class _IntegerMixin:
    @classmethod
    def _coerce_value(cls, value: numbers.Real | Decimal) -> int:
        # type() first: isinstance() against the numbers ABCs is slow, and add() is hot.
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


class _FloatMixin:
    @classmethod
    def _coerce_value(cls, value: numbers.Real | Decimal) -> float:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"{cls.__name__}.add() got {value!r}, too large for a float.")
        return number


class IntegerCountBase(_IntegerMixin, MonitorBase):
    """Count events: each row says ``value`` things happened at ``created``.

    Charts show the sum per bucket. ``add()`` with no value counts one event.
    """

    value = models.BigIntegerField(default=1)

    kind: ClassVar[str] = "count"
    default_value: ClassVar[int | None] = 1

    class Meta:
        abstract = True


class IntegerValueBase(_IntegerMixin, MonitorBase):
    """Record whole-number readings of a gauge, such as a queue length.

    Charts show the average, minimum, maximum and last reading per bucket.
    """

    value = models.BigIntegerField()

    kind: ClassVar[str] = "value"

    class Meta:
        abstract = True


class FloatValueBase(_FloatMixin, MonitorBase):
    """Record readings of a gauge that may be fractional, such as a load average.

    Charts show the average, minimum, maximum and last reading per bucket.
    """

    value = models.FloatField()

    kind: ClassVar[str] = "value"

    class Meta:
        abstract = True


class DurationBase(_FloatMixin, MonitorBase):
    """Record timings in milliseconds, such as how long a task took.

    Use ``monitor.get(name).time()`` as a context manager or decorator to
    measure a block of code.
    """

    value = models.FloatField(help_text="Duration in milliseconds.")

    kind: ClassVar[str] = "duration"

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
