"""Query parameters of the monitoring views, parsed and validated by Django forms.

:class:`MonitorQueryForm` reads what ``/monitoring/<name>/`` accepts and
:class:`DashboardForm` what ``/monitoring/`` does. Every 400 a monitor view
answers comes from :meth:`MonitorQueryForm.error_json`, which names the
field at fault and what it accepts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from monitoring.buckets import BUCKET_SIZES, count_buckets, site_timezone, to_utc
from monitoring.conf import conf

__all__ = [
    "FORMATS",
    "MAX_TOP",
    "RANGES",
    "REFRESH_INTERVALS",
    "RESERVED_PARAMETERS",
    "DashboardForm",
    "MonitorQueryForm",
    "Query",
]

#: The ranges ``?range=`` accepts, each ending now, with their labels.
RANGES: dict[str, tuple[dt.timedelta, Any]] = {
    "1h": (dt.timedelta(hours=1), gettext_lazy("Last hour")),
    "6h": (dt.timedelta(hours=6), gettext_lazy("Last 6 hours")),
    "24h": (dt.timedelta(hours=24), gettext_lazy("Last 24 hours")),
    "7d": (dt.timedelta(days=7), gettext_lazy("Last 7 days")),
    "30d": (dt.timedelta(days=30), gettext_lazy("Last 30 days")),
    "90d": (dt.timedelta(days=90), gettext_lazy("Last 90 days")),
    "365d": (dt.timedelta(days=365), gettext_lazy("Last 365 days")),
}

#: What ``?format=`` accepts: the monitor's full page, its card (the HTML fragment the
#: dashboard fetches), its data as JSON or as CSV. Without it, the request's headers
#: choose (see :func:`monitoring.views.monitors.requested_format`).
FORMATS = ("page", "card", "json", "csv")

#: Auto-refresh choices of the dashboard, in seconds (0 is off), with their labels.
REFRESH_INTERVALS: dict[int, Any] = {
    0: gettext_lazy("Off"),
    30: gettext_lazy("30 s"),
    60: gettext_lazy("1 min"),
    300: gettext_lazy("5 min"),
}

#: Query parameters with a meaning of their own; every other one filters a dimension.
RESERVED_PARAMETERS = ("format", "range", "start", "end", "resolution", "split", "top")

#: The most groups ``?top=`` may ask for.
MAX_TOP = 20

#: Dates ``start`` and ``end`` may name: far enough from datetime's limits that the
#: period before and the bucket edges still fit.
MIN_YEAR, MAX_YEAR = 1900, 9000

ISO_HINT = ["an ISO 8601 date or date-time, e.g. 2026-11-29 or 2026-11-29T14:30:00+01:00"]


def default_range() -> str:
    """Return ``MONITORING_DEFAULT_RANGE``, or 7d when it names no range (check E011 says so)."""
    return conf.DEFAULT_RANGE if conf.DEFAULT_RANGE in RANGES else "7d"


@dataclass
class Query:
    """The cleaned query parameters of one request for a monitor's data."""

    start: dt.datetime
    end: dt.datetime
    resolution: str
    range: str | None = None
    format: str | None = None
    filters: dict[str, list[Any]] = field(default_factory=dict)
    split_by: str | None = None
    top: int = 5

    def series_kwargs(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "resolution": self.resolution,
            "filters": self.filters or None,
            "split_by": self.split_by,
            "top": self.top,
        }


def invalid(message: str, allowed: list[str], code: str = "invalid") -> ValidationError:
    """Return a ValidationError that carries what the field accepts instead.

    An attribute, not ``params``: the message already holds the user's value,
    which may contain ``%``.
    """
    error = ValidationError(message, code=code)
    error.allowed = [str(a) for a in allowed]
    return error


class ChoiceParameter(forms.Field):
    """One of a fixed list of strings; an empty value is no value."""

    def __init__(self, choices: list[str], message: str, **kwargs: Any):
        super().__init__(required=False, **kwargs)
        self.allowed = list(choices)
        self.message = message

    def clean(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        if value not in self.allowed:
            raise invalid(self.message % {"value": value}, self.allowed)
        return value


class DateTimeParameter(forms.Field):
    """An ISO 8601 date or date-time; naive means the site's time zone (``TIME_ZONE``)."""

    def __init__(self, **kwargs: Any):
        super().__init__(required=False, **kwargs)
        self.allowed = ISO_HINT

    def clean(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise invalid(
                _("%(value)r is not an ISO 8601 date-time.") % {"value": value}, ISO_HINT
            ) from None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise invalid(
                _("%(value)r is not between the years %(min)s and %(max)s.")
                % {"value": value, "min": MIN_YEAR, "max": MAX_YEAR},
                ISO_HINT,
            )
        if timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=site_timezone())
        return parsed


class TopParameter(forms.Field):
    """How many groups a split shows before the rest is summed into "other"."""

    def __init__(self, **kwargs: Any):
        super().__init__(required=False, **kwargs)
        self.allowed = [str(n) for n in range(1, MAX_TOP + 1)]

    def clean(self, value: Any) -> int:
        if value in (None, ""):
            return 5
        # Compared as text: int() would take "²", "٣" and 5,000 digits.
        if value not in self.allowed:
            raise invalid(
                _("top must be a whole number from 1 to %(max)s, got %(value)r.")
                % {"max": MAX_TOP, "value": value},
                self.allowed,
            )
        return int(value)


class DimensionParameter(forms.Field):
    """Filter values of one dimension: ``?plan=pro&plan=team``."""

    widget = forms.MultipleHiddenInput

    def __init__(self, model_field: Any, **kwargs: Any):
        super().__init__(required=False, **kwargs)
        self.model_field = model_field
        self.choices = [str(value) for value, _label in model_field.flatchoices]
        self.allowed = self.choices or [
            _("a value of %(type)s") % {"type": type(model_field).__name__}
        ]

    def clean(self, value: Any) -> list[Any]:
        return [self.clean_one(raw) for raw in value or []]

    def clean_one(self, raw: str) -> Any:
        name = self.model_field.name
        if self.choices and raw not in self.choices:
            raise invalid(
                _("%(value)r is not a value of %(name)s.") % {"value": raw, "name": name},
                self.choices,
            )
        # NUL never matches (and PostgreSQL refuses it); clean() also checks integer ranges.
        try:
            if "\x00" in raw:
                raise ValidationError("NUL character")
            return self.model_field.clean(raw, None)
        except ValidationError:
            raise invalid(
                _("%(value)r is not a valid %(name)s.") % {"value": raw, "name": name},
                self.allowed,
            ) from None


class UnknownParameter(forms.Field):
    """A parameter the monitor does not know: always an error that lists the known ones."""

    def __init__(self, name: str, monitor_name: str, known: list[str], **kwargs: Any):
        super().__init__(required=False, **kwargs)
        self.allowed = known
        self.message = _("Unknown parameter %(name)r for the monitor %(monitor)r.") % {
            "name": name,
            "monitor": monitor_name,
        }

    def clean(self, value: Any) -> None:
        raise invalid(self.message, self.allowed, code="unknown")


class MonitorQueryForm(forms.Form):
    """Parse the query string of a monitor's view into a :class:`Query`.

    Without ``range`` or ``start`` the window is ``MONITORING_DEFAULT_RANGE``
    ending now, the dashboard's own default; day buckets start at midnight in
    the site's ``TIME_ZONE``, whatever zone the request has activated.
    ``split`` defaults to the monitor's first dimension.
    """

    def __init__(self, data: Any, *, handle: Any, now: dt.datetime | None = None):
        super().__init__(data)
        self.handle = handle
        self.now = now
        dimensions = handle.dimension_names()
        self.fields["format"] = ChoiceParameter(list(FORMATS), _("Unknown format %(value)r."))
        self.fields["range"] = ChoiceParameter(list(RANGES), _("Unknown range %(value)r."))
        self.fields["start"] = DateTimeParameter()
        self.fields["end"] = DateTimeParameter()
        self.fields["resolution"] = ChoiceParameter(
            ["auto", *BUCKET_SIZES], _("Unknown resolution %(value)r.")
        )
        self.fields["split"] = ChoiceParameter(
            ["none", *dimensions],
            _("The monitor %(monitor)r has no dimension %%(value)r.") % {"monitor": handle.name},
        )
        self.fields["top"] = TopParameter()
        for model_field in handle.dimension_fields():
            if model_field.name not in RESERVED_PARAMETERS:
                self.fields[model_field.name] = DimensionParameter(model_field)
        known = [*RESERVED_PARAMETERS, *dimensions]
        for name in data or {}:
            if name not in self.fields:
                self.fields[name] = UnknownParameter(name, handle.name, known)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        range_name, start, end = cleaned["range"], cleaned["start"], cleaned["end"]
        if range_name and start:
            self.add_error("start", invalid(_("Give either range or start, not both."), ISO_HINT))
            return cleaned
        if end and not (range_name or start):
            self.add_error("end", invalid(_("end needs start or range to go with it."), ISO_HINT))
            return cleaned
        if not (range_name or start):
            range_name = default_range()
        # In UTC: now() is naive with USE_TZ = False, and start and end are aware.
        end = end or to_utc(self.now or timezone.now())
        if start is None:
            start = end - RANGES[range_name][0]
        if start >= end and not cleaned["end"]:
            # No end given: it is now, and the start given is the parameter at fault.
            self.add_error(
                "start",
                invalid(
                    _("start (%(start)s) must be before now (%(end)s), or give an end after it.")
                    % {"end": end.isoformat(), "start": start.isoformat()},
                    ISO_HINT,
                ),
            )
            return cleaned
        if start >= end:
            self.add_error(
                "end",
                invalid(
                    _("end (%(end)s) must be after start (%(start)s).")
                    % {"end": end.isoformat(), "start": start.isoformat()},
                    ISO_HINT,
                ),
            )
            return cleaned
        cleaned["range"] = range_name if not cleaned["start"] else None
        cleaned["start"], cleaned["end"] = start, end
        self.check_bucket_count(cleaned)
        return cleaned

    def check_bucket_count(self, cleaned: dict[str, Any]) -> None:
        """Refuse a resolution that would give a chart more buckets than it may have."""
        from monitoring import queries

        start, end = cleaned["start"], cleaned["end"]
        resolution = cleaned["resolution"] or "auto"
        cleaned["resolution"] = resolution
        effective = queries.choose_resolution(start, end) if resolution == "auto" else resolution
        buckets = count_buckets(start, end, effective)
        if buckets <= queries.MAX_BUCKETS:
            return
        if resolution == "auto":
            self.add_error(
                "start",
                invalid(
                    _("From start to end is %(days)s days; a chart can show at most %(max)s weeks.")
                    % {"days": f"{(end - start).days:,}", "max": f"{queries.MAX_BUCKETS:,}"},
                    ISO_HINT,
                ),
            )
            return
        fitting = ["auto"] + [
            name for name in BUCKET_SIZES if count_buckets(start, end, name) <= queries.MAX_BUCKETS
        ]
        self.add_error(
            "resolution",
            invalid(
                _(
                    "%(resolution)s buckets over this range would be %(count)s points; "
                    "choose a coarser resolution."
                )
                % {"resolution": resolution, "count": f"{int(buckets):,}"},
                fitting,
            ),
        )

    def query(self) -> Query:
        """Return the cleaned parameters; call it after ``is_valid()`` returned True."""
        data = self.cleaned_data
        dimensions = self.handle.dimension_names()
        split = data["split"]
        if split is None and "split" not in self.data:
            split_by = dimensions[0] if dimensions else None
        else:
            split_by = None if split in (None, "none") else split
        filters = {
            name: data[name]
            for name in dimensions
            if name in self.fields and name in self.data and data.get(name)
        }
        return Query(
            start=data["start"],
            end=data["end"],
            resolution=data["resolution"],
            range=data["range"],
            format=data["format"],
            filters=filters,
            split_by=split_by,
            top=data["top"],
        )

    def error_json(self) -> dict[str, Any]:
        """Return the 400 body: the first field at fault, its message and what it accepts."""
        name, errors = next(iter(self.errors.as_data().items()))
        error = errors[0]
        allowed = getattr(error, "allowed", None) or getattr(self.fields.get(name), "allowed", None)
        return {
            "error": str(error.message),
            "parameter": name,
            "allowed": list(allowed or ISO_HINT),
            "errors": {
                field_name: [str(m) for e in field_errors for m in e.messages]
                for field_name, field_errors in self.errors.as_data().items()
            },
        }


class DashboardForm(forms.Form):
    """Parse the dashboard's ``?range=`` and ``?refresh=``; bad values fall back to defaults."""

    range = forms.ChoiceField(required=False, choices=[(name, name) for name in RANGES])
    refresh = forms.TypedChoiceField(
        required=False, coerce=int, choices=[(str(s), str(s)) for s in REFRESH_INTERVALS]
    )
    #: Ranges of single cards that differ from the page's: ``orders:1h,user_count:24h``.
    cards = forms.CharField(required=False, max_length=2000)

    def values(self) -> tuple[str, int]:
        """Return the range and refresh interval, defaults standing in for bad values."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        range_name = data.get("range") or default_range()
        refresh = data.get("refresh") or 0
        return range_name, refresh

    def card_ranges(self) -> dict[str, str]:
        """Return {monitor name: range} of the cards with a range of their own; bad pairs drop."""
        self.is_valid()
        text = getattr(self, "cleaned_data", {}).get("cards") or ""
        pairs = (item.partition(":") for item in text.split(","))
        return {name: value for name, _sep, value in pairs if name and value in RANGES}
