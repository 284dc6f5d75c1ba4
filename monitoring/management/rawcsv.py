"""Raw data points as CSV: ``at,value,<dimension>...``, one line per point.

``monitoring_export --format raw`` writes this CSV and ``monitoring_import``
reads it. ``at`` is an ISO 8601 date-time (naive means ``TIME_ZONE``),
``value`` a number, and each further column a dimension of the monitor's
model, by field name. An empty dimension cell is ``None`` where the field is
nullable, and the empty string elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from monitoring.buckets import site_timezone
from monitoring.models import _clean_dimension

if TYPE_CHECKING:
    from monitoring.models import MonitorBase

__all__ = ["LineError", "PointReader", "RawRows", "raw_header", "raw_model"]

# ASCII digits only: int() and float() would also take "٣", "1_000" and "nan".
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def raw_model(handle: Any, action: str) -> type[MonitorBase]:
    """Return the model of a recorded monitor's raw rows, or say why ``handle`` has none.

    Charts of existing tables and sampled gauges read their data elsewhere;
    ``action`` (``"import"``, ``"export"``) goes into the message.
    """
    from django.core.management.base import CommandError

    from monitoring.models import MonitorBase

    if not handle.stored:
        raise CommandError(
            f"{handle.name!r} charts an existing table (monitor.register_model()): it has "
            f"no raw rows of its own to {action}. Work on the table itself, or export "
            "its buckets with --format csv or json."
        )
    if not issubclass(handle.model, MonitorBase):
        raise CommandError(
            f"{handle.name!r} is a sampled gauge (monitor.sample()): its readings come "
            f"from its sampler, and there are no raw rows to {action}. Export its "
            "buckets with --format csv or json."
        )
    return handle.model


def raw_header(model: type[MonitorBase]) -> list[str]:
    """Return the header of a monitor model's raw CSV."""
    return ["at", "value", *model.dimension_names()]


def _aware(at: dt.datetime) -> dt.datetime:
    return at if timezone.is_aware(at) else timezone.make_aware(at, site_timezone())


def _db_time(at: dt.datetime) -> dt.datetime:
    """Return an aware time as raw rows store it: naive in ``TIME_ZONE`` without ``USE_TZ``."""
    return at if settings.USE_TZ else timezone.make_naive(at, site_timezone())


class RawRows:
    """The raw rows of ``model`` in ``[start, end)`` that match ``filters``, as CSV rows.

    Oldest first; times in ``TIME_ZONE`` with their offset, so the file
    means the same in any zone.
    """

    def __init__(
        self,
        model: type[MonitorBase],
        start: dt.datetime,
        end: dt.datetime,
        filters: dict[str, list[Any]] | None = None,
        *,
        using: str,
    ):
        self.model = model
        fields = {field.name: field for field in model.dimension_fields()}
        lookups = {
            f"{fields[name].attname}__in": values for name, values in (filters or {}).items()
        }
        self.queryset = model._base_manager.using(using).filter(
            created__gte=_db_time(start), created__lt=_db_time(end), **lookups
        )
        self.columns = ["created", "value"] + [field.attname for field in fields.values()]

    def count(self) -> int:
        return self.queryset.count()

    def __iter__(self) -> Iterator[list[Any]]:
        zone = site_timezone()
        rows = self.queryset.order_by("created", "pk").values_list(*self.columns)
        for created, value, *dimensions in rows.iterator(chunk_size=2000):
            yield [
                _aware(created).astimezone(zone).isoformat(),
                value,
                *("" if v is None else v for v in dimensions),
            ]


class LineError(ValueError):
    """A line of an import that can't be a data point: where it is and what is wrong."""

    def __init__(self, line: int, column: str | None, message: str):
        self.line = line
        self.column = column
        self.message = message
        where = f"line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


class PointReader:
    """Read data points of ``model`` from CSV rows, validated as ``add()`` validates them.

    ``rows`` is a :func:`csv.reader`; its first row is the header. Iterating
    yields ``(at, point)`` pairs, where ``point`` is what the write buffer
    holds, and raises :class:`LineError` for the first bad line.
    """

    def __init__(self, model: type[MonitorBase], rows: Any):
        self.model = model
        self.rows = rows
        self.fields = {field.name: field for field in model.dimension_fields()}
        try:
            header = next(rows)
        except StopIteration:
            raise LineError(1, None, self._header_message("the file is empty")) from None
        self.header = [cell.strip() for cell in header]
        self._check_header()
        self.width = len(self.header)
        self.columns = [(name, self.fields[name]) for name in self.header[2:]]

    def _header_message(self, problem: str) -> str:
        return f"{problem}; the header must be {','.join(raw_header(self.model))}"

    def _check_header(self) -> None:
        header = self.header
        if header[:2] != ["at", "value"]:
            raise LineError(1, None, self._header_message(f"the header is {','.join(header)}"))
        seen = set()
        for name in header[2:]:
            if name not in self.fields:
                dimensions = ", ".join(self.fields) or "none"
                raise LineError(
                    1,
                    name,
                    f"{self.model.__name__} has no dimension {name!r} (its dimensions: "
                    f"{dimensions})",
                )
            if name in seen:
                raise LineError(1, name, "the column is there twice")
            seen.add(name)
        for name, field in self.fields.items():
            if name not in seen and not (field.has_default() or field.null):
                raise LineError(
                    1, None, self._header_message(f"the dimension {name!r} has no default")
                )

    def __iter__(self) -> Iterator[tuple[dt.datetime, tuple]]:
        for line, cells in self.lines():
            yield self.point(line, cells)

    def lines(self) -> Iterator[tuple[int, list[str]]]:
        """Yield each line after the header with its number, blank lines left out."""
        for cells in self.rows:
            if cells:
                yield self.rows.line_num, cells

    def point(self, line: int, cells: list[str]) -> tuple[dt.datetime, tuple]:
        """Return ``(at, point)`` of one line, or raise :class:`LineError`."""
        if len(cells) != self.width:
            raise LineError(
                line, None, f"{len(cells)} cells where the header has {self.width} columns"
            )
        at, ns = self._at(line, cells[0])
        value = self._value(line, cells[1])
        given = {
            name: None if cell == "" and field.null else cell
            for (name, field), cell in zip(self.columns, cells[2:], strict=True)
        }
        try:
            # add()'s own path, which caches each cleaned value.
            values = self.model._dimension_values(given)
        except (TypeError, ValueError) as exc:
            raise self._dimension_error(line, given, exc) from None
        return at, (self.model._point_key, value, ns, values)

    def _dimension_error(self, line: int, given: dict[str, Any], exc: Exception) -> LineError:
        """Return the error of the first column at fault (a default that fails: of the line)."""
        for name, text in given.items():
            if text is not None:
                try:
                    _clean_dimension(self.model, self.fields[name], text)
                except (TypeError, ValueError) as column_exc:
                    return LineError(line, name, str(column_exc))
        return LineError(line, None, str(exc))

    def _at(self, line: int, text: str) -> tuple[dt.datetime, int]:
        """Return the aware time of a cell and its Unix time in ns, checked as add() checks it."""
        text = text.strip()
        parsed_text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            # Django's parser, not fromisoformat() alone: Python 3.10's refuses fractions
            # of other than 3 or 6 digits ("23:59:59.5").
            at = parse_datetime(parsed_text) or dt.datetime.fromisoformat(parsed_text)
        except ValueError:
            raise LineError(
                line, "at", f"{text!r} is not an ISO 8601 date-time, e.g. 2026-11-29T14:30:00+01:00"
            ) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=site_timezone())
        try:
            return at, self.model._at_ns(at)
        except (TypeError, ValueError) as exc:
            raise LineError(line, "at", str(exc)) from None

    def _value(self, line: int, text: str) -> int | float:
        text = text.strip()
        if _INTEGER.fullmatch(text):
            number: int | float = int(text)
        elif _DECIMAL.fullmatch(text):
            number = float(text)
        else:
            raise LineError(line, "value", f"{text!r} is not a number")
        try:
            return self.model.clean_value(number)
        except (TypeError, ValueError) as exc:
            raise LineError(line, "value", str(exc)) from None
