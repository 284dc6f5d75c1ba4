"""The monitor registry: ``from monitoring.register import monitor``.

Modelled on ``django.contrib.admin.site``: one :class:`MonitorRegistry` per
process, filled by ``monitoring.py`` modules found by :func:`autodiscover`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ContextDecorator, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.core.validators import slug_re
from django.utils.module_loading import autodiscover_modules

from monitoring import storage
from monitoring.exceptions import AlreadyRegistered, NotRegistered
from monitoring.models import _MISSING, MONITOR_BASES, MonitorBase

if TYPE_CHECKING:
    from monitoring.alerts import Rule
    from monitoring.queries import Series

__all__ = ["AlreadyRegistered", "Monitor", "MonitorRegistry", "NotRegistered", "monitor"]

#: Characters a monitor's or an alert's name has at most: the columns that hold them.
MAX_NAME = 100


class Timer(ContextDecorator):
    """Measure a block or a function call and add its duration in milliseconds.

    Safe for overlapping use: as a decorator, every call gets a Timer of its
    own; as a context manager shared between threads, each thread keeps its
    own start times.
    """

    def __init__(self, handle: Monitor, dimensions: dict[str, Any]):
        self.handle = handle
        self.dimensions = dimensions
        self._local = threading.local()

    def _recreate_cm(self) -> Timer:
        # ContextDecorator calls this for each decorated call: calls that overlap,
        # in threads or through recursion, each time themselves.
        return Timer(self.handle, self.dimensions)

    def __enter__(self) -> Timer:
        starts = getattr(self._local, "starts", None)
        if starts is None:
            starts = self._local.starts = []
        starts.append(time.perf_counter())
        return self

    def __exit__(self, *exc_info: object) -> None:
        elapsed_ms = (time.perf_counter() - self._local.starts.pop()) * 1000
        self.handle.add(elapsed_ms, **self.dimensions)


class Monitor:
    """One registered monitor, as returned by ``monitor.get(name)``.

    Record data with :meth:`add` (and :meth:`time` for durations); the
    presentation options given to ``register()`` are attributes.
    """

    def __init__(
        self,
        name: str,
        view: Callable[..., Any],
        model: type[MonitorBase],
        *,
        title: str | None = None,
        category: str | None = None,
        order: int | None = None,
        unit: str | None = None,
        description: str | None = None,
    ):
        self.name = name
        self.view = view
        self.model = model
        self.title = title or name.replace("_", " ").replace("-", " ").capitalize()
        self.category = category or ""
        self.order = 0 if order is None else order
        self.unit = unit or ""
        self.description = description or ""
        if type(self).add is Monitor.add:
            # The model's add() itself, bound here: one Python call less per data point,
            # which is a third of what add() costs the caller. Same signature and behaviour.
            self.add = model.add  # type: ignore[method-assign]

    def __repr__(self) -> str:
        return f"<Monitor {self.name!r}: {self.model._meta.label}>"

    #: True when the monitor's data is in the rollups (written through ``add()``);
    #: False for a chart of an existing table, read straight from that table.
    stored = True

    @property
    def kind(self) -> str:
        """Return ``"count"``, ``"value"`` or ``"duration"``, from the model's base."""
        return self.model.kind

    @property
    def integer(self) -> bool:
        """Return True if the monitor's values are whole numbers."""
        from monitoring.models import _IntegerMixin

        return issubclass(self.model, _IntegerMixin)

    def dimension_fields(self) -> list[Any]:
        """Return the model fields the monitor can be filtered and split by."""
        return self.model.dimension_fields()

    def dimension_names(self) -> list[str]:
        """Return the names of the monitor's dimensions, in field order."""
        return [field.name for field in self.dimension_fields()]

    def add(self, value: Any = _MISSING, at: datetime | None = None, **dimensions: Any) -> None:
        """Record one data point; raise TypeError/ValueError for bad input and record nothing.

        ``value`` defaults to 1 for counts and is required for the other kinds.
        """
        self.model.add(value, at, **dimensions)

    def series(self, **kwargs: Any) -> Series:
        """Return this monitor's data as a series; see :func:`monitoring.queries.get_series`."""
        from monitoring.queries import get_series

        return get_series(self, **kwargs)

    def time(self, **dimensions: Any) -> Timer:
        """Return a context manager and decorator that records how long its block took.

        Only duration monitors (built on ``DurationBase``) can be timed.
        """
        if self.kind != "duration":
            raise TypeError(
                f"Monitor {self.name!r} is a {self.kind} monitor; time() needs one built on "
                f"DurationBase."
            )
        # Validate now, so a typo fails where it is written rather than after the work.
        self.model.clean_dimensions(dimensions)
        return Timer(self, dimensions)


def _model_of(view: Callable[..., Any]) -> type | None:
    initkwargs = getattr(view, "view_initkwargs", None) or {}
    if initkwargs.get("model") is not None:
        return initkwargs["model"]
    return getattr(getattr(view, "view_class", None), "model", None)


class MonitorRegistry:
    """Keep the monitors of one process, by name.

    ``monitoring.register.monitor`` is the instance everybody uses; make
    another only to test or to keep a separate set.
    """

    def __init__(self) -> None:
        # autodiscover_modules() copies and restores this attribute if a module fails.
        self._registry: dict[str, Monitor] = {}
        self._alerts: dict[str, Rule] = {}
        # Rules on monitors not registered yet, while discovering() runs.
        self._deferred: dict[str, Rule] | None = None

    def register(
        self,
        name: str,
        view: Callable[..., Any],
        *,
        title: str | None = None,
        category: str | None = None,
        order: int | None = None,
        unit: str | None = None,
        description: str | None = None,
    ) -> Monitor:
        """Register ``view`` (made by ``as_view(model=...)``) as the monitor ``name``.

        If the name is already registered, raise AlreadyRegistered. If the
        name is not a slug, raise ValueError. If the view has no model, or the
        model is abstract, not built on a monitoring base, already used by
        another monitor, or of a kind the view cannot show, raise
        ImproperlyConfigured.
        """
        self._check_name(name)
        if isinstance(view, type):
            raise ImproperlyConfigured(
                f"Monitor {name!r}: register a view function, not the class {view.__name__}; "
                f"pass {view.__name__}.as_view(model=YourModel)."
            )
        if not callable(view):
            raise ImproperlyConfigured(f"Monitor {name!r}: the view {view!r} is not callable.")
        model = _model_of(view)
        if model is None:
            raise ImproperlyConfigured(
                f"Monitor {name!r} has no model. Pass one to the view: "
                f"IntegerCountView.as_view(model=YourModel)."
            )
        if not (isinstance(model, type) and issubclass(model, MONITOR_BASES)):
            bases = ", ".join(base.__name__ for base in MONITOR_BASES)
            raise ImproperlyConfigured(
                f"Monitor {name!r}: the model {model!r} is not built on one of "
                f"monitoring's bases ({bases})."
            )
        if model._meta.abstract:
            raise ImproperlyConfigured(
                f"Monitor {name!r}: the model {model.__name__} is abstract; "
                f"register a concrete subclass of it."
            )
        if "at" in model.dimension_names():
            raise ImproperlyConfigured(
                f"Monitor {name!r}: the model {model._meta.label} has a field named 'at', "
                f"which add() takes as the time of the data point; rename the field."
            )
        view_kinds = getattr(getattr(view, "view_class", None), "kinds", None)
        if view_kinds and model.kind not in view_kinds:
            raise ImproperlyConfigured(
                f"Monitor {name!r}: {view.view_class.__name__} shows {' or '.join(view_kinds)} "
                f"monitors, but {model._meta.label} is a {model.kind} monitor."
            )
        for other in self._registry.values():
            if other.stored and other.model is model:
                raise ImproperlyConfigured(
                    f"Monitor {name!r}: the model {model._meta.label} already belongs to "
                    f"the monitor {other.name!r}; give each monitor a model of its own."
                )
        handle = Monitor(
            name,
            view,
            model,
            title=title,
            category=category,
            order=order,
            unit=unit,
            description=description,
        )
        self._registry[name] = handle
        return handle

    def register_model(
        self,
        name: str,
        model: Any,
        *,
        date_field: str,
        value: Any = None,
        dimensions: list[str] | tuple[str, ...] | None = None,
        view: Callable[..., Any] | None = None,
        title: str | None = None,
        category: str | None = None,
        order: int | None = None,
        unit: str | None = None,
        description: str | None = None,
    ) -> Monitor:
        """Register a chart of an existing model (or queryset) by one of its date fields.

        Each bucket shows ``value``, an aggregate over the rows whose
        ``date_field`` falls into it: ``Count("pk")`` by default, or a
        ``Sum("total")``. ``dimensions`` names columns to filter and split
        by. Nothing is recorded, so ``add()`` raises TypeError; the chart
        reads the table itself (see :mod:`monitoring.tables`). ``view``
        defaults to ``IntegerCountView.as_view()``.

        If the name is already registered, raise AlreadyRegistered; if it is
        not a slug, ValueError; for a bad model, field, value or dimension,
        ImproperlyConfigured.
        """
        from django.db.models import Count

        from monitoring.tables import make_table_monitor

        self._check_name(name)
        if view is None:
            from monitoring.views import IntegerCountView

            view = IntegerCountView.as_view()
        handle = make_table_monitor(
            name,
            model,
            view,
            date_field=date_field,
            value=Count("pk") if value is None else value,
            dimensions=dimensions,
            title=title,
            category=category,
            order=order,
            unit=unit,
            description=description,
        )
        self._registry[name] = handle
        return handle

    def sample(
        self,
        name: str,
        function: Callable[[], Any] | None = None,
        *,
        every: float | int | str | dt.timedelta,
        timeout: float | None = 10.0,
        view: Callable[..., Any] | None = None,
        title: str | None = None,
        category: str | None = None,
        order: int | None = None,
        unit: str | None = None,
        description: str | None = None,
    ) -> Any:
        """Register a gauge that records what ``function()`` returns, once per ``every``.

        ``every`` is seconds, a timedelta or a string such as ``"30s"``,
        ``"5m"``, ``"1h"``, from 1 second to 366 days. One process of the
        deployment samples each tick (see :mod:`monitoring.sampling`);
        ``function`` runs on a thread of its own for at most ``timeout``
        seconds (None: no bound, on the calling thread). Without ``function``,
        return a decorator::

            @monitor.sample("pending_orders", every="5m")
            def pending_orders():
                return Order.objects.filter(state="pending").count()

        Return the handle (or, as a decorator, the function unchanged). If the
        name is already registered, raise AlreadyRegistered; if it is not a
        slug, ValueError; for a bad ``every`` or ``timeout``, ValueError; if
        ``function`` is not callable, TypeError.
        """
        from monitoring import jobs
        from monitoring.sampling import MAX_EVERY, MIN_EVERY, SampledMonitor

        self._check_name(name)
        seconds = jobs.parse_interval(every, f"Monitor {name!r}: every")
        if not MIN_EVERY <= seconds <= MAX_EVERY:
            raise ValueError(
                f"Monitor {name!r}: every must be from {MIN_EVERY:g} second to "
                f"{MAX_EVERY / 86400:g} days, not {every!r} ({seconds:g} s)."
            )
        if timeout is not None:
            timeout = jobs.parse_interval(timeout, f"Monitor {name!r}: timeout")
        options = {
            "title": title,
            "category": category,
            "order": order,
            "unit": unit,
            "description": description,
        }
        if function is None:

            def decorator(function: Callable[[], Any]) -> Callable[[], Any]:
                self.sample(name, function, every=seconds, timeout=timeout, view=view, **options)
                return function

            return decorator
        if not callable(function):
            raise TypeError(f"Monitor {name!r}: the sampler {function!r} is not callable.")
        if view is None:
            from monitoring.views import ValueView

            view = ValueView.as_view()
        handle = SampledMonitor(name, view, function, every=seconds, timeout=timeout, **options)
        # The job first: if it can't be made, nothing is left half-registered.
        jobs.every(seconds, handle.sample, name=handle.job_name)
        self._registry[name] = handle
        return handle

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str) or not slug_re.match(name):
            raise ValueError(
                f"Monitor name {name!r} is not a slug: use only letters, numbers, "
                f"underscores and hyphens, as in 'user_count'."
            )
        if len(name) > MAX_NAME:
            raise ValueError(f"Monitor name {name!r} is longer than {MAX_NAME} characters.")
        if name in self._registry:
            raise AlreadyRegistered(
                f"The monitor {name!r} is already registered "
                f"(model {self._registry[name].model._meta.label}). "
                f"Unregister it first or choose another name."
            )

    def unregister(self, name: str) -> None:
        """Remove the monitor ``name`` and its alert rules.

        If it isn't registered, raise NotRegistered.
        """
        handle = self.get(name)
        del self._registry[name]
        self._alerts = {key: rule for key, rule in self._alerts.items() if rule.monitor != name}
        job = getattr(handle, "job_name", None)
        if job is not None:
            from monitoring import jobs

            jobs.unregister(job)

    def alert(self, name: str, rule: Rule) -> Rule:
        """Register the alert rule ``rule`` (a :class:`monitoring.alerts.Rule`) as ``name``.

        If the name is taken, raise AlreadyRegistered; if it is not a slug,
        ValueError. If the rule's monitor isn't registered, raise
        NotRegistered; if the monitor's kind lacks the rule's stat or the
        monitor lacks a dimension the rule filters on, ValueError. During
        autodiscovery (:meth:`discovering`) a rule on a monitor not
        registered yet is checked when discovery ends.
        """
        from monitoring.alerts import Rule

        if not isinstance(name, str) or not slug_re.match(name):
            raise ValueError(
                f"Alert name {name!r} is not a slug: use only letters, numbers, "
                f"underscores and hyphens, as in 'slow_requests'."
            )
        if len(name) > MAX_NAME:
            raise ValueError(f"Alert name {name!r} is longer than {MAX_NAME} characters.")
        if not isinstance(rule, Rule):
            raise TypeError(f"Alert {name!r}: expected a monitoring.alerts.Rule, got {rule!r}.")
        deferred = self._deferred or {}
        taken = self._alerts.get(name) or deferred.get(name)
        if taken is not None:
            raise AlreadyRegistered(
                f"The alert {name!r} is already registered ({taken.summary()}). "
                f"Choose another name."
            )
        registered_as = rule.name or next((n for n, r in deferred.items() if r is rule), "")
        if registered_as:
            raise ValueError(
                f"Alert {name!r}: this Rule is already registered as {registered_as!r}; "
                f"make a Rule per alert."
            )
        if rule.monitor not in self._registry and self._deferred is not None:
            # Autodiscovery: the monitor may come from an app later in INSTALLED_APPS.
            self._deferred[name] = rule
            return rule
        self._bind(name, rule)
        return rule

    def _bind(self, name: str, rule: Rule) -> None:
        from monitoring.alerts import schedule

        if rule.monitor not in self._registry:
            raise NotRegistered(
                f"Alert {name!r} watches an unknown monitor. "
                + self._not_registered_message(rule.monitor)
            )
        rule.bind(name, self._registry[rule.monitor])
        self._alerts[name] = rule
        # Rules registered after ready() (by an app's own ready()) are evaluated too.
        schedule()

    @contextmanager
    def discovering(self) -> Iterator[None]:
        """Accept rules on monitors that are not registered yet, and check them at the end.

        :func:`autodiscover` imports the apps' ``monitoring`` modules inside
        it, so a rule may watch a monitor of an app later in
        ``INSTALLED_APPS``. When the block ends, each such rule is checked
        and registered as if ``alert()`` had been called then; the first
        that fails raises, naming the rule.
        """
        if self._deferred is not None:  # nested: the outer block checks
            yield
            return
        self._deferred = {}
        try:
            yield
        finally:
            deferred, self._deferred = self._deferred, None
        for name, rule in deferred.items():
            self._bind(name, rule)

    @property
    def alerts(self) -> dict[str, Rule]:
        """Return the registered alert rules by name, in the order they were registered."""
        return dict(self._alerts)

    def is_registered(self, name: str) -> bool:
        """Return True if a monitor is registered under ``name``."""
        return name in self._registry

    def get(self, name: str) -> Monitor:
        """Return the monitor ``name``. If it isn't registered, raise NotRegistered."""
        try:
            return self._registry[name]
        except (KeyError, TypeError):
            raise NotRegistered(self._not_registered_message(name)) from None

    def get_for_model(self, model: type[MonitorBase]) -> Monitor | None:
        """Return the monitor that records into ``model``, or None."""
        for handle in self._registry.values():
            if handle.stored and handle.model is model:
                return handle
        return None

    def _not_registered_message(self, name: object) -> str:
        message = f"No monitor named {name!r}."
        if not self._registry:
            return (
                f"{message} No monitors are registered: is 'monitoring' in INSTALLED_APPS, "
                f"and does your app's monitoring.py call monitor.register()?"
            )
        close = difflib.get_close_matches(str(name), list(self._registry), n=3, cutoff=0.6)
        if close:
            return f"{message} Did you mean {' or '.join(repr(c) for c in close)}?"
        return f"{message} Registered monitors: {', '.join(sorted(self._registry))}."

    # -- storage controls, re-exported from monitoring.storage ----------------

    @staticmethod
    def flush() -> int:
        """Write every buffered data point now and return how many were written.

        Never raise: if the database fails, the points stay buffered (see
        :meth:`stats`) and a later flush retries them. Inside a transaction,
        write nothing and return 0: the background thread writes the points
        on its own connection, so a rollback cannot take them.
        """
        return storage.flush()

    @staticmethod
    def stats() -> dict[str, Any]:
        """Return the write buffer's counters; see :func:`monitoring.storage.stats`."""
        return storage.stats()

    @property
    def dropped(self) -> int:
        """Return how many data points the full buffer has dropped since the process started."""
        return storage.stats()["dropped"]

    def __contains__(self, name: object) -> bool:
        return name in self._registry

    def __len__(self) -> int:
        return len(self._registry)

    def __iter__(self) -> Iterator[Monitor]:
        """Yield the monitors in dashboard order: by category, then order, then name.

        The project's own monitors come first, the built-in ones of
        ``monitoring.contrib`` after them.
        """
        return iter(sorted(self._registry.values(), key=_dashboard_order))


def _dashboard_order(handle: Monitor) -> tuple[bool, str, int, str]:
    builtin = handle.model.__module__.startswith("monitoring.contrib.")
    return (builtin, handle.category, handle.order, handle.name)


monitor = MonitorRegistry()


def autodiscover() -> None:
    """Import the ``monitoring`` module of every installed app, so they can register."""
    with monitor.discovering():
        autodiscover_modules("monitoring", register_to=monitor)
