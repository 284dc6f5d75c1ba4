"""Alert rules: know when a number crosses a line.

Declare rules next to the monitors, in an app's ``monitoring.py``::

    from monitoring.alerts import Rule
    from monitoring.register import monitor

    monitor.alert("slow_requests", Rule("request_time", stat="p95", above=500, for_="5m"))
    monitor.alert("no_signups", Rule("user_count", stat="sum", below=1, window="6h"))

:func:`evaluate` reads each rule's stat over its window from the rollups
(through :func:`monitoring.queries.window_stat`), moves the rule between
ok, pending and firing in the :class:`~monitoring.models.AlertState` table,
and delivers each transition to firing and back (resolved): the signals
:data:`alert_fired` and :data:`alert_resolved`, a record on the
``monitoring.alerts`` logger and an email. A state changes only by a
compare-and-set on its row, so whatever the number of processes evaluating,
each transition is recorded, signalled and emailed once; an email that
fails is tried again at the next evaluation.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import numbers
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.mail import mail_admins, send_mail
from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from monitoring.buckets import site_timezone, to_db, to_utc
from monitoring.conf import conf
from monitoring.exceptions import InvalidDimension

if TYPE_CHECKING:
    from monitoring.models import AlertState, AlertTransition
    from monitoring.register import Monitor

__all__ = [
    "Rule",
    "alert_fired",
    "alert_resolved",
    "deliver",
    "evaluate",
    "firing",
    "for_monitor",
    "format_value",
    "parse_duration",
    "schedule",
    "states",
]

logger = logging.getLogger("monitoring.alerts")

#: Sent once when a rule starts firing, with ``name``, ``rule``, ``value`` and ``transition``.
alert_fired = Signal()

#: Sent once when a firing rule is back to ok, with the same arguments as :data:`alert_fired`.
alert_resolved = Signal()

#: Every stat a rule can watch; which of them a monitor has depends on its kind
#: (:data:`monitoring.queries.WINDOW_STATS`).
ALL_STATS = ("sum", "count", "avg", "min", "max", "last", "p50", "p95", "p99")

#: The stat a rule watches when it names none: the headline number of the kind.
DEFAULT_STATS = {"count": "sum", "value": "last", "duration": "p95"}

#: The states' words, marked for makemessages: pages show a stored state with
#: ``{% translate state context "alert state" %}``. Emails, log records and the
#: JSON keep the stored English words.
STATE_WORDS = (
    pgettext_lazy("alert state", "ok"),
    pgettext_lazy("alert state", "pending"),
    pgettext_lazy("alert state", "firing"),
)

#: The stats in a rule's summary on a page; percentiles read the same in every language.
STAT_LABELS = {
    "sum": pgettext_lazy("alert stat", "sum"),
    "count": pgettext_lazy("alert stat", "count"),
    "avg": pgettext_lazy("alert stat", "avg"),
    "min": pgettext_lazy("alert stat", "min"),
    "max": pgettext_lazy("alert stat", "max"),
    "last": pgettext_lazy("alert stat", "last"),
}

#: Transitions older than this are no longer emailed, however often the email failed.
RETRY_FOR = dt.timedelta(days=1)

#: How long a process's claim on the email it sends lasts. Django's email backends
#: wait for the mail server without end by default (``EMAIL_TIMEOUT`` is None): a
#: send that outlasted a claim would let the next evaluation send the email again.
#: Only a process that died while sending (or a send hung longer than this) lets
#: another one take the email over; give the email backend a timeout well under it.
CLAIM_FOR = dt.timedelta(minutes=15)

#: How many of the window's recent bucket values an alert email lists.
EMAIL_VALUES = 15


def parse_duration(value: Any, what: str = "duration", *, zero: bool = False) -> dt.timedelta:
    """Return ``value`` ("30s", "5m", "6h", "1d", seconds, or a timedelta) as a timedelta.

    The forms :func:`monitoring.jobs.parse_interval` takes; with ``zero``, 0
    as well. Raise ValueError naming ``what`` for anything else.
    """
    from monitoring.jobs import parse_interval

    if zero and not isinstance(value, (bool, str)) and value in (0, dt.timedelta(0)):
        return dt.timedelta(0)
    return dt.timedelta(seconds=parse_interval(value, what))


def _threshold(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"Rule: {name} must be a finite number, got {value!r}.")
    return value


class Rule:
    """Fire when a monitor's ``stat`` over the last ``window`` is above or below a line.

    ``stat`` is one of sum, count, avg, min, max, last, p50, p95 and p99 that
    the monitor's kind has (by default its headline number: sum, last or
    p95). A rule is breached when the value is above ``above`` or below
    ``below`` (give one or both); an empty window has a sum and count of 0
    and no other stat, and a rule without a value is not breached. It fires
    once it has been breached for ``for_`` (at once by default), and
    resolves at the first evaluation that finds it not breached.
    ``filters`` limits the points to dimension values, as
    ``monitor.series(filters=...)`` does. ``critical`` rules make
    ``/monitoring/health`` answer 503 while they fire.
    """

    def __init__(
        self,
        monitor: str,
        *,
        stat: str | None = None,
        above: float | None = None,
        below: float | None = None,
        window: Any = "5m",
        for_: Any = 0,
        filters: dict[str, Any] | None = None,
        critical: bool = False,
        description: str = "",
    ):
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"Rule: the monitor must be a monitor's name, got {monitor!r}.")
        if stat is not None and stat not in ALL_STATS:
            raise ValueError(
                f"Rule on {monitor!r}: unknown stat {stat!r}; choose one of {', '.join(ALL_STATS)}."
            )
        self.above = _threshold(above, "above")
        self.below = _threshold(below, "below")
        if self.above is None and self.below is None:
            raise ValueError(
                f"Rule on {monitor!r} has neither above nor below: give the line it must "
                f"not cross, e.g. above=500."
            )
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError(
                f"Rule on {monitor!r}: below ({self.below}) must be less than above "
                f"({self.above}); the rule fires outside that band."
            )
        self.window = parse_duration(window, f"Rule on {monitor!r}: window")
        self.for_ = parse_duration(for_, f"Rule on {monitor!r}: for_", zero=True)
        if filters is not None and not isinstance(filters, dict):
            raise ValueError(f"Rule on {monitor!r}: filters must be a dict, got {filters!r}.")
        self.monitor = monitor
        self.stat = stat
        self.filters = dict(filters or {})
        self.critical = bool(critical)
        self.description = description
        #: The name the rule is registered under; set by ``monitor.alert()``.
        self.name = ""

    def __repr__(self) -> str:
        return f"<Rule {self.name or '(unregistered)'}: {self.summary()}>"

    def bind(self, name: str, handle: Monitor) -> None:
        """Check the rule against the monitor it watches and take its name.

        Raise ValueError for a stat the monitor's kind lacks or a filter on
        a dimension it does not have. Called by ``monitor.alert()``.
        """
        from monitoring.queries import WINDOW_STATS

        if not handle.stored:
            raise ValueError(
                f"Alert {name!r}: the monitor {handle.name!r} charts an existing table "
                f"(monitor.register_model()), and alert rules read the rollups, which such "
                f"a monitor has none of. Watch a recorded or sampled monitor instead."
            )
        every = getattr(handle, "every", None)  # sampled gauges
        if every is not None and self.window.total_seconds() < every:
            raise ValueError(
                f"Alert {name!r}: its window ({self.window.total_seconds():g} s) is shorter "
                f"than the time between two readings of {handle.name!r} ({every:g} s), so "
                f"most windows would hold no reading and the rule would fire and resolve "
                f"in turn. Give it a window of at least {every:g} s."
            )
        stat = self.stat or DEFAULT_STATS[handle.kind]
        if stat not in WINDOW_STATS[handle.kind]:
            raise ValueError(
                f"Alert {name!r}: the monitor {handle.name!r} is a {handle.kind} monitor, which "
                f"has no stat {stat!r}; choose one of {', '.join(WINDOW_STATS[handle.kind])}."
            )
        dimensions = handle.dimension_names()
        for dimension in self.filters:
            if dimension not in dimensions:
                valid = ", ".join(repr(d) for d in dimensions) or "none"
                raise ValueError(
                    f"Alert {name!r}: the monitor {handle.name!r} has no dimension "
                    f"{dimension!r} to filter on; valid dimensions: {valid}."
                )
            wanted = self.filters[dimension]
            for value in wanted if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]:
                # A value add() would refuse is never recorded: the filter could never match.
                try:
                    handle.model.clean_dimensions({dimension: value})
                except InvalidDimension as exc:
                    raise ValueError(
                        f"Alert {name!r}: the filter {dimension}={value!r} can never match, "
                        f"as {handle.name!r} never records that value: {exc.problem}"
                    ) from None
        self.stat = stat
        self.name = name

    def threshold(self) -> str:
        """Return the line the rule watches, as people read it: "above 500"."""
        if self.above is not None and self.below is not None:
            return f"below {format_value(self.below)} or above {format_value(self.above)}"
        if self.above is not None:
            return f"above {format_value(self.above)}"
        return f"below {format_value(self.below)}"

    def summary(self) -> str:
        """Return what the rule watches: "request_time p95 over 5m above 500".

        In English whatever the active language, like :meth:`threshold`: log
        records, emails, the stored transitions and the command's output use
        them. Pages show :meth:`summary_text`.
        """
        wait = f" for {_format_duration(self.for_)}" if self.for_ else ""
        return (
            f"{self.monitor}{self._filters_text()} {self.stat or 'default stat'} over "
            f"{_format_duration(self.window)} {self.threshold()}{wait}"
        )

    def _filters_text(self) -> str:
        # Dimension names and values are the code's own: the same in every language.
        return "".join(f" {name}={value!r}" for name, value in sorted(self.filters.items()))

    def threshold_text(self) -> str:
        """Return :meth:`threshold` in the active language, its numbers formatted for it."""
        from monitoring.views.text import format_number

        if self.above is not None and self.below is not None:
            return _("below %(low)s or above %(high)s") % {
                "low": format_number(self.below),
                "high": format_number(self.above),
            }
        if self.above is not None:
            return _("above %(value)s") % {"value": format_number(self.above)}
        return _("below %(value)s") % {"value": format_number(self.below)}

    def summary_text(self) -> str:
        """Return :meth:`summary` in the active language, for pages."""
        stat = self.stat or _("default stat")
        values = {
            "monitor": self.monitor,
            "filters": self._filters_text(),
            "stat": STAT_LABELS.get(stat, stat),
            "window": _duration_text(self.window),
            "threshold": self.threshold_text(),
        }
        if not self.for_:
            return _("%(monitor)s%(filters)s %(stat)s over %(window)s %(threshold)s") % values
        return _("%(monitor)s%(filters)s %(stat)s over %(window)s %(threshold)s for %(wait)s") % {
            **values,
            "wait": _duration_text(self.for_),
        }

    def breached(self, value: float | None) -> bool:
        """Return True if ``value`` is across the rule's line; None never is."""
        if value is None:
            return False
        if self.above is not None and value > self.above:
            return True
        return self.below is not None and value < self.below

    def value(self, now: dt.datetime) -> float | None:
        """Return the rule's stat over the window of whole minutes that ends before ``now``.

        Whole minutes: evaluations run at the start of a minute (the alerts job's
        ticks are aligned to the clock), when the minute under way holds almost
        nothing yet, and a 1-minute window would never see a full minute.
        """
        from monitoring.queries import window_stat

        end = now.replace(second=0, microsecond=0)
        return window_stat(
            self.monitor, self.stat, start=end - self.window, end=end, filters=self.filters
        )

    def recent_values(self, now: dt.datetime) -> list[tuple[dt.datetime, float | None]]:
        """Return the last bucket values of the stat, at least the last 15 minutes' worth."""
        from monitoring.queries import window_values

        span = max(self.window, dt.timedelta(minutes=15))
        values = window_values(
            self.monitor, self.stat, start=now - span, end=now, filters=self.filters
        )
        return values[-EMAIL_VALUES:]


def format_value(value: float | None) -> str:
    """Return a rule's value or threshold for people: 500, 0.25, 1.234e+06."""
    if value is None:
        return "no value"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _format_duration(duration: dt.timedelta) -> str:
    seconds = duration.total_seconds()
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def _duration_text(duration: dt.timedelta) -> str:
    """Return ``duration`` as :func:`_format_duration` does, in the active language."""
    from monitoring.views.text import format_number

    seconds = duration.total_seconds()
    units = {
        "d": pgettext("duration in days", "%(n)sd"),
        "h": pgettext("duration in hours", "%(n)sh"),
        "m": pgettext("duration in minutes", "%(n)sm"),
    }
    for unit in ("d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return units[unit] % {"n": format_number(int(seconds // _UNITS[unit]))}
    return pgettext("duration in seconds", "%(n)ss") % {"n": format_number(seconds)}


# -- state -----------------------------------------------------------------------


def states(rules: Iterable[Rule] | None = None) -> dict[str, AlertState]:
    """Return the stored state of each rule (every registered rule by default) by name.

    A rule never evaluated yet has no state.
    """
    from monitoring.models import AlertState
    from monitoring.register import monitor

    names = [rule.name for rule in (monitor.alerts.values() if rules is None else rules)]
    if not names:
        return {}
    rows = AlertState.objects.using(conf.DATABASE).filter(rule__in=names)
    return {row.rule: row for row in rows}


def firing(rules: Iterable[Rule] | None = None) -> list[tuple[Rule, AlertState]]:
    """Return ``(rule, state)`` for every rule that fires now, in registration order."""
    from monitoring.models import AlertState
    from monitoring.register import monitor

    rules = list(monitor.alerts.values() if rules is None else rules)
    stored = states(rules)
    return [
        (rule, stored[rule.name])
        for rule in rules
        if rule.name in stored and stored[rule.name].state == AlertState.FIRING
    ]


def for_monitor(name: str) -> list[dict[str, Any]]:
    """Return the rules that watch the monitor ``name`` with their state, JSON-ready.

    Charts draw each rule's line and show a badge while one fires. The
    ``threshold`` and ``summary`` texts are for people, in the active
    language; ``state`` is the stored word (ok, pending or firing).
    """
    from monitoring.register import monitor

    rules = [rule for rule in monitor.alerts.values() if rule.monitor == name]
    stored = states(rules) if rules else {}
    return [
        {
            "name": rule.name,
            "stat": rule.stat,
            "above": rule.above,
            "below": rule.below,
            "threshold": rule.threshold_text(),
            "summary": rule.summary_text(),
            "critical": rule.critical,
            "state": stored[rule.name].state if rule.name in stored else "ok",
        }
        for rule in rules
    ]


# -- evaluation ------------------------------------------------------------------


def evaluate(now: dt.datetime | None = None, rules: Iterable[Rule] | None = None) -> list[Any]:
    """Evaluate the rules once (every registered rule by default), then deliver emails.

    Return the transitions this call recorded. A rule that cannot be
    evaluated is logged and skipped; so is a failing delivery, which the next
    call tries again: nothing here stops the other rules.
    """
    from monitoring.register import monitor

    now = to_utc(now if now is not None else timezone.now())
    transitions = []
    for rule in monitor.alerts.values() if rules is None else rules:
        try:
            transition = _evaluate_rule(rule, now)
        except Exception:
            logger.exception("Alert %r could not be evaluated.", rule.name)
            continue
        if transition is not None:
            transitions.append(transition)
            _announce(rule, transition)
    deliver(now)
    return transitions


def _evaluate_rule(rule: Rule, now: dt.datetime) -> AlertTransition | None:
    """Move one rule to its new state; return the transition if this process recorded one."""
    from monitoring.models import AlertState, AlertTransition

    alias = conf.DATABASE
    value = rule.value(now)
    stored = to_db(now)
    state, _created = AlertState.objects.using(alias).get_or_create(
        rule=rule.name, defaults={"state": AlertState.OK, "since": stored}
    )
    # Between this read and the compare-and-set below another process may move the
    # state; tests/alerts_worker.py holds both processes in _next_state to prove it.
    new = _next_state(rule, state, value, now)
    states = AlertState.objects.using(alias)
    if new == state.state:
        states.filter(pk=state.pk).update(value=value, evaluated=stored)
        return None
    with transaction.atomic(using=alias):
        # Compare-and-set: of the processes that saw this state, one moves it on.
        moved = states.filter(pk=state.pk, state=state.state, since=state.since).update(
            state=new, since=stored, value=value, evaluated=stored
        )
        if not moved:
            return None
        return AlertTransition.objects.using(alias).create(
            rule=rule.name,
            previous=state.state,
            state=new,
            at=stored,
            value=value,
            threshold=rule.threshold(),
            notify=new == AlertState.FIRING or state.state == AlertState.FIRING,
        )


def _next_state(rule: Rule, state: AlertState, value: float | None, now: dt.datetime) -> str:
    from monitoring.models import AlertState

    if not rule.breached(value):
        return AlertState.OK
    if state.state == AlertState.FIRING:
        return AlertState.FIRING
    if state.state == AlertState.PENDING:
        waited = now - to_utc(state.since)
        return AlertState.FIRING if waited >= rule.for_ else AlertState.PENDING
    return AlertState.FIRING if not rule.for_ else AlertState.PENDING


def _announce(rule: Rule, transition: AlertTransition) -> None:
    """Send the signal and write the log record of a transition, once, where it was recorded."""
    if not transition.notify:
        return
    fired = transition.kind == "fired"
    signal = alert_fired if fired else alert_resolved
    message = _headline(rule, transition)
    logger.log(logging.WARNING if fired else logging.INFO, message)
    responses = signal.send_robust(
        sender=Rule, name=rule.name, rule=rule, value=transition.value, transition=transition
    )
    for receiver, response in responses:
        if isinstance(response, Exception):
            logger.error(
                "%r, a receiver of %s for alert %r, failed: %r",
                receiver,
                "alert_fired" if fired else "alert_resolved",
                rule.name,
                response,
                exc_info=response,
            )


def _headline(rule: Rule, transition: AlertTransition) -> str:
    if transition.kind == "fired":
        return (
            f"Alert {rule.name} is firing: {rule.monitor} {rule.stat} over "
            f"{_format_duration(rule.window)} is {format_value(transition.value)}, "
            f"{transition.threshold}."
        )
    return (
        f"Alert {rule.name} is resolved: {rule.monitor} {rule.stat} over "
        f"{_format_duration(rule.window)} is {format_value(transition.value)}, "
        f"no longer {transition.threshold}."
    )


# -- email -----------------------------------------------------------------------


def deliver(now: dt.datetime | None = None) -> int:
    """Email the transitions still unsent, oldest first; return how many were sent.

    Each email is claimed by a compare-and-set on its transition, so that
    one process sends it. A claim lasts :data:`CLAIM_FOR`, longer than a
    send should ever take, so that no other process sends the same email
    while one is still sending it; a failed send shortens its claim to half
    an evaluation interval, so that the next evaluation tries again.
    Transitions older than a day are no longer tried.
    """
    from monitoring.models import AlertTransition
    from monitoring.register import monitor

    now = to_utc(now if now is not None else timezone.now())
    started = time.monotonic()
    rows = AlertTransition.objects.using(conf.DATABASE)
    sent = 0
    for transition in _unsent(now):
        # Sends before this one took time: the claim starts when it is taken.
        stamp = to_db(now + dt.timedelta(seconds=time.monotonic() - started))
        claim = rows.filter(pk=transition.pk, emailed=None, claimed=transition.claimed)
        if not claim.update(claimed=stamp, attempts=transition.attempts + 1):
            continue  # another process took it
        mine = rows.filter(pk=transition.pk, claimed=stamp)
        rule = monitor.alerts.get(transition.rule)
        try:
            _send_email(rule, transition, now)
        except Exception as exc:
            logger.exception(
                "The email of alert %r (%s) failed; it is tried again at the next evaluation.",
                transition.rule,
                transition.kind,
            )
            retry = stamp - CLAIM_FOR + dt.timedelta(seconds=_interval() / 2)
            mine.update(claimed=retry, error=f"{type(exc).__name__}: {exc}")
            continue
        if not mine.update(emailed=to_db(now), error=""):
            logger.warning(
                "The email of alert %r (%s) took longer to send than its claim lasts (%s), and "
                "another process may have sent it too: give the email backend a timeout "
                "(EMAIL_TIMEOUT) well under that.",
                transition.rule,
                transition.kind,
                _format_duration(CLAIM_FOR),
            )
            rows.filter(pk=transition.pk, emailed=None).update(emailed=to_db(now), error="")
        sent += 1
    return sent


def _unsent(now: dt.datetime) -> list[AlertTransition]:
    """Return the transitions to email that no process has a live claim on, oldest first.

    Its own function so that the two-process test (tests/alerts_worker.py)
    can hold both processes between this read and their claims.
    """
    from monitoring.models import AlertTransition

    rows = AlertTransition.objects.using(conf.DATABASE)
    unsent = rows.filter(notify=True, emailed=None, at__gte=to_db(now - RETRY_FOR))
    expired = Q(claimed__lte=to_db(now - CLAIM_FOR))
    return list(unsent.filter(Q(claimed=None) | expired).order_by("at", "id"))


#: The name of the evaluation's job (and lease) in :mod:`monitoring.jobs`.
JOB = "alerts"


def schedule() -> None:
    """Have the rules evaluated every ``MONITORING_ALERT_INTERVAL``, if any are registered.

    Called by ``MonitoringConfig.ready()`` after autodiscovery. The job runs
    on one process of the whole deployment per interval (see
    :mod:`monitoring.jobs`).
    """
    from monitoring import jobs
    from monitoring.register import monitor

    if monitor.alerts:
        jobs.every(_interval(), evaluate, name=JOB)


def _interval() -> float:
    interval = conf.ALERT_INTERVAL
    valid = isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0
    return float(interval) if valid else 60.0


def email_message(
    rule: Rule | None, transition: AlertTransition, now: dt.datetime
) -> tuple[str, str]:
    """Return the subject and plain-text body of a transition's email."""
    state = "FIRING" if transition.kind == "fired" else "RESOLVED"
    subject = f"[monitoring] {state}: {transition.rule}"
    at = to_utc(transition.at).astimezone(site_timezone())
    if rule is None:
        # The rule was removed from the code since: the stored transition says enough.
        lines = [
            f"Alert {transition.rule} is {state.lower()} since {at:%Y-%m-%d %H:%M:%S %Z}.",
            f"Value: {format_value(transition.value)} (threshold: {transition.threshold}).",
        ]
        return subject, "\n".join(lines) + "\n"
    lines = [
        _headline(rule, transition),
        "",
        f"Rule:      {rule.summary()}",
        f"Value:     {format_value(transition.value)}",
        f"Threshold: {transition.threshold}",
        f"Since:     {at:%Y-%m-%d %H:%M:%S %Z}",
    ]
    if rule.description:
        lines.append(f"About:     {rule.description}")
    link = monitor_link(rule.monitor)
    if link:
        lines.append(f"Chart:     {link}")
    lines += ["", f"Recent values ({rule.stat} per bucket):"]
    try:
        recent = rule.recent_values(now)
    except Exception:  # the email goes out without them rather than not at all
        logger.exception("The recent values of alert %r could not be read.", rule.name)
        recent = []
    zone = site_timezone()
    for start, value in recent:
        lines.append(f"  {start.astimezone(zone):%Y-%m-%d %H:%M}  {format_value(value)}")
    if not recent:
        lines.append("  (no data in the last buckets)")
    return subject, "\n".join(lines) + "\n"


def monitor_link(name: str) -> str:
    """Return the URL of a monitor's page, after ``MONITORING_SITE_URL``; "" without URLs."""
    try:
        path = reverse("monitoring:monitor", args=[name])
    except NoReverseMatch:
        return ""
    return (conf.SITE_URL or "").rstrip("/") + path


def _send_email(rule: Rule | None, transition: AlertTransition, now: dt.datetime) -> None:
    subject, body = email_message(rule, transition, now)
    recipients = conf.ALERT_EMAILS
    if recipients:
        send_mail(subject, body, None, list(recipients), fail_silently=False)
    else:
        # mail_admins adds EMAIL_SUBJECT_PREFIX itself.
        mail_admins(subject.removeprefix("[monitoring] "), body, fail_silently=False)
