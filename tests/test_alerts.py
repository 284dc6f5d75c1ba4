"""Alert rules: registration, evaluation over fake-clock rollups, state, delivery."""

import datetime as dt
import logging

import django
import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from monitoring.alerts import Rule, alert_fired, alert_resolved, deliver, evaluate, parse_duration
from monitoring.exceptions import AlreadyRegistered, NotRegistered
from monitoring.models import AlertState, AlertTransition
from monitoring.queries import window_stat, window_values
from monitoring.register import monitor
from tests.conftest import mailer_settings, start_worker

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _no_rules(settings):
    """Start every test without the demo's rules (each test registers its own), mail to ops."""
    monitor._alerts = {}
    settings.MONITORING_ALERT_EMAILS = ["ops@example.com"]


def add(name, value, at, **dimensions):
    monitor.get(name).add(value, at=at, **dimensions)


# -- registration ---------------------------------------------------------------


def test_alert_registers_a_rule_by_name():
    rule = monitor.alert("slow", Rule("request_time", stat="p95", above=500, for_="5m"))
    assert monitor.alerts == {"slow": rule}
    assert rule.name == "slow"
    assert rule.for_ == dt.timedelta(minutes=5)
    assert rule.window == dt.timedelta(minutes=5)
    assert rule.summary() == "request_time p95 over 5m above 500 for 5m"


@pytest.mark.parametrize(
    ("rule", "english", "german"),
    [
        (
            Rule("request_time", stat="p95", above=500, for_="90s"),
            "request_time p95 over 5m above 500 for 90s",
            "request_time: p95 der letzten 5 Min. über 500, 90 Sek. lang",
        ),
        (
            Rule("queue_length", stat="avg", below=0.5, above=1500, window="1d"),
            "queue_length avg over 1d below 0.5 or above 1,500",
            "queue_length: Mittelwert der letzten 1 Tg. unter 0,5 oder über 1.500",
        ),
        (
            Rule("orders", below=1, window="6h", filters={"plan": "pro"}),
            "orders plan='pro' sum over 6h below 1",
            "orders plan='pro': Summe der letzten 6 Std. unter 1",
        ),
    ],
)
def test_a_rule_s_text_for_pages_follows_the_language(rule, english, german):
    from django.utils import translation

    monitor.alert("watch", rule)
    with translation.override("en"):
        assert rule.summary_text() == english
    with translation.override("de"):
        assert rule.summary_text() == german
        # Emails and log records stay English, with plain numbers.
        assert rule.summary() == english.replace("1,500", "1500")


def test_a_rule_registered_after_ready_is_evaluated_by_the_alerts_job(settings):
    from monitoring import jobs

    jobs.unregister("alerts")
    settings.MONITORING_ALERT_INTERVAL = 30
    monitor.alert("late", Rule("orders", above=1))
    assert jobs.jobs["alerts"].interval == 30


def test_a_window_shorter_than_a_sampled_gauge_s_interval_is_refused():
    monitor.sample("hourly_gauge", lambda: 1, every="1h")
    with pytest.raises(ValueError, match=r"its window \(300 s\) is shorter than .* \(3600 s\)"):
        monitor.alert("flappy", Rule("hourly_gauge", below=1))
    assert monitor.alert("steady", Rule("hourly_gauge", below=1, window="1h")).name == "steady"


def test_a_rule_without_a_stat_watches_the_headline_number():
    assert monitor.alert("a", Rule("orders", above=1)).stat == "sum"
    assert monitor.alert("b", Rule("queue_length", above=1)).stat == "last"
    assert monitor.alert("c", Rule("request_time", above=1)).stat == "p95"


def test_unknown_monitor_fails_at_registration_with_a_suggestion():
    with pytest.raises(NotRegistered, match="Alert 'x' watches an unknown monitor.*'orders'"):
        monitor.alert("x", Rule("ordres", above=1))


def test_during_discovery_a_rule_may_come_before_its_monitor():
    # An app's monitoring.py watching a monitor of an app later in INSTALLED_APPS.

    with monitor.discovering():
        rule = monitor.alert("later", Rule("later_queue", above=10))
        assert "later" not in monitor.alerts
        with pytest.raises(AlreadyRegistered, match="'later' is already registered"):
            monitor.alert("later", Rule("orders", above=1))
        with pytest.raises(ValueError, match="already registered as 'later'"):
            monitor.alert("again", rule)
        monitor.sample("later_queue", lambda: 1, every="5m")
    assert monitor.alerts["later"] is rule
    assert rule.name == "later" and rule.stat == "last"


@pytest.mark.parametrize(
    ("rule", "error", "message"),
    [
        (Rule("ordres", above=1), NotRegistered, "Alert 'x' watches an unknown monitor.*'orders'"),
        (Rule("orders", stat="p95", above=1), ValueError, "has no stat 'p95'"),
    ],
)
def test_a_deferred_rule_is_checked_when_discovery_ends(rule, error, message):
    with pytest.raises(error, match=message), monitor.discovering():
        monitor.alert("x", rule)
    assert "x" not in monitor.alerts
    with pytest.raises(NotRegistered):  # and after discovery, at once
        monitor.alert("y", Rule("not_yet", above=1))


def test_autodiscovery_defers_rules(monkeypatch):
    from monitoring import register

    seen = []
    monkeypatch.setattr(
        register,
        "autodiscover_modules",
        lambda *args, **kwargs: seen.append(monitor._deferred is not None),
    )
    register.autodiscover()
    assert seen == [True]
    assert monitor._deferred is None


@pytest.mark.parametrize(
    ("name", "stat"),
    [("orders", "p95"), ("orders", "avg"), ("queue_length", "sum"), ("request_time", "last")],
)
def test_a_stat_the_kind_lacks_fails_at_registration(name, stat):
    with pytest.raises(ValueError, match=f"has no stat '{stat}'; choose one of"):
        monitor.alert("x", Rule(name, stat=stat, above=1))
    assert "x" not in monitor.alerts


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "has neither above nor below"),
        ({"above": None, "below": None}, "has neither above nor below"),
        ({"above": "500"}, "above must be a finite number"),
        ({"below": float("nan")}, "below must be a finite number"),
        ({"above": True}, "above must be a finite number"),
        ({"above": 1, "below": 5}, r"below \(5\) must be less than above \(1\)"),
        ({"above": 1, "stat": "p90"}, "unknown stat 'p90'"),
        ({"above": 1, "window": "5 minutes"}, "window must be seconds, a timedelta or a string"),
        ({"above": 1, "window": 0}, "window must be more than zero"),
        ({"above": 1, "window": "1w"}, "window must be seconds, a timedelta or a string"),
        ({"above": 1, "for_": "-5m"}, "for_ must be seconds, a timedelta or a string"),
        ({"above": 1, "for_": -5}, "for_ must be more than zero, not -5"),
        ({"above": 1, "for_": False}, "for_ must be seconds"),
        ({"above": 1, "filters": ["plan"]}, "filters must be a dict"),
    ],
)
def test_bad_rules_fail_with_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Rule("orders", **kwargs)


def test_a_filter_on_a_missing_dimension_fails_at_registration():
    with pytest.raises(ValueError, match="no dimension 'plann' to filter on; valid.*'plan'"):
        monitor.alert("x", Rule("orders", above=1, filters={"plann": "pro"}))


@pytest.mark.parametrize(
    "wanted", ["enterprise", ["pro", "enterprise"], "x" * 21, None, ["pro", ["team"]]]
)
def test_a_filter_value_the_monitor_never_records_fails_at_registration(wanted):
    with pytest.raises(ValueError, match=r"Alert 'x': the filter plan=.* can never match"):
        monitor.alert("x", Rule("orders", above=1, filters={"plan": wanted}))
    assert "x" not in monitor.alerts
    assert monitor.alert("y", Rule("orders", above=1, filters={"plan": ["pro", "team"]}))


def test_names_are_unique_slugs_and_rules_are_not_shared():
    rule = monitor.alert("x", Rule("orders", above=1))
    with pytest.raises(AlreadyRegistered, match="The alert 'x' is already registered"):
        monitor.alert("x", Rule("orders", above=2))
    with pytest.raises(ValueError, match="already registered as 'x'"):
        monitor.alert("y", rule)
    with pytest.raises(ValueError, match="is not a slug"):
        monitor.alert("no spaces", Rule("orders", above=1))
    with pytest.raises(TypeError, match="expected a monitoring.alerts.Rule"):
        monitor.alert("z", {"monitor": "orders"})


def test_unregistering_a_monitor_drops_its_rules():
    monitor.alert("x", Rule("orders", above=1))
    monitor.alert("y", Rule("queue_length", above=1))
    monitor.unregister("orders")
    assert list(monitor.alerts) == ["y"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30s", 30), ("5m", 300), ("1.5h", 5400), ("2d", 172800), (90, 90)],
)
def test_parse_duration(value, seconds):
    assert parse_duration(value) == dt.timedelta(seconds=seconds)
    assert parse_duration(0, zero=True) == parse_duration(dt.timedelta(0), zero=True)
    assert Rule("orders", above=1, for_=0).for_ == dt.timedelta(0)


# -- evaluation of every stat over fake-clock rollups -------------------------------


@pytest.fixture
def data(freeze_now):
    """Points inside the 5-minute window before T0 and one older point outside it."""
    freeze_now(T0)
    add("orders", 3, T0 - 2 * MINUTE, plan="pro")
    add("orders", 4, T0 - 1 * MINUTE, plan="free")
    add("orders", 50, T0 - 10 * MINUTE, plan="pro")
    for value, minutes in [(5, 4), (9, 3), (2, 1)]:
        add("queue_length", value, T0 - minutes * MINUTE)
    add("queue_length", 100, T0 - 30 * MINUTE)
    for value in range(1, 101):
        add("request_time", float(value), T0 - 3 * MINUTE)
    add("request_time", 5000.0, T0 - 20 * MINUTE)


#: The stat of each kind over the 5 minutes before T0, from the ``data`` fixture.
EXPECTED = [
    ("orders", "sum", 7),
    ("orders", "count", 2),
    ("queue_length", "avg", 16 / 3),
    ("queue_length", "min", 2),
    ("queue_length", "max", 9),
    ("queue_length", "last", 2),
    ("queue_length", "count", 3),
    ("request_time", "count", 100),
    ("request_time", "avg", 50.5),
    ("request_time", "min", 1),
    ("request_time", "max", 100),
    ("request_time", "p50", 50),
    ("request_time", "p95", 95),
    ("request_time", "p99", 99),
]


@pytest.mark.parametrize(("name", "stat", "expected"), EXPECTED)
def test_window_stat_of_every_stat(data, name, stat, expected):
    value = window_stat(name, stat, start=T0 - 5 * MINUTE, end=T0)
    # Percentiles come from log-spaced bins, within 4.3% of the true value.
    assert value == pytest.approx(expected, rel=0.05 if stat.startswith("p") else 1e-9)


@pytest.mark.parametrize(("name", "stat", "expected"), EXPECTED)
def test_every_stat_fires_above_and_not_below_its_value(data, name, stat, expected):
    over = monitor.alert("over", Rule(name, stat=stat, above=expected * 0.9))
    under = monitor.alert("under", Rule(name, stat=stat, above=expected * 1.1))
    low = monitor.alert("low", Rule(name, stat=stat, below=expected * 1.1))
    transitions = evaluate(T0)
    assert {t.rule: t.state for t in transitions} == {"over": "firing", "low": "firing"}
    assert AlertState.objects.get(rule="under").state == "ok"
    assert AlertState.objects.get(rule="over").value == pytest.approx(over.value(T0))
    assert under.value(T0) == low.value(T0)


def test_an_empty_window_sums_to_zero_and_has_no_other_stat(freeze_now):
    freeze_now(T0)
    assert window_stat("orders", "sum", start=T0 - MINUTE, end=T0) == 0
    assert window_stat("queue_length", "count", start=T0 - MINUTE, end=T0) == 0
    assert window_stat("queue_length", "avg", start=T0 - MINUTE, end=T0) is None
    monitor.alert("none", Rule("orders", stat="sum", below=1, window="6h"))
    monitor.alert("quiet", Rule("queue_length", stat="max", below=1))
    assert [t.rule for t in evaluate(T0)] == ["none"]


def test_the_dimension_filter(data):
    assert window_stat("orders", "sum", start=T0 - 5 * MINUTE, end=T0, filters={"plan": "pro"}) == 3
    monitor.alert("pro", Rule("orders", stat="sum", above=3, filters={"plan": "pro"}))
    monitor.alert("free", Rule("orders", stat="sum", above=3, filters={"plan": "free"}))
    assert [t.rule for t in evaluate(T0)] == ["free"]


def test_the_window_decides_which_points_count(data):
    monitor.alert("short", Rule("orders", stat="sum", above=10, window="5m"))
    monitor.alert("long", Rule("orders", stat="sum", above=10, window="10m"))
    assert [t.rule for t in evaluate(T0)] == ["long"]
    assert AlertState.objects.get(rule="long").value == 57
    assert AlertState.objects.get(rule="short").value == 7


@pytest.mark.parametrize("second", [0.5, 1, 30, 59.9])
def test_a_window_is_whole_minutes_before_the_evaluation(second):
    """The alerts job runs at the start of a minute: a 1-minute window is the minute before."""
    for offset in range(12):
        add("orders", 1, T0 - MINUTE + dt.timedelta(seconds=offset * 5))
    add("orders", 100, T0 - 2 * MINUTE)  # before the window
    monitor.alert("burst", Rule("orders", stat="sum", above=10, window="1m"))
    assert [t.state for t in evaluate(T0 + dt.timedelta(seconds=second))] == ["firing"]
    assert AlertState.objects.get(rule="burst").value == 12


def test_window_values_lists_the_buckets(data):
    values = window_values("queue_length", "last", start=T0 - 5 * MINUTE, end=T0)
    assert values == [(T0 - 4 * MINUTE, 5), (T0 - 3 * MINUTE, 9), (T0 - MINUTE, 2)]


def test_window_stat_refuses_a_stat_the_kind_lacks():
    with pytest.raises(ValueError, match="count monitor, which has no stat 'p95'"):
        window_stat("orders", "p95", start=T0 - MINUTE, end=T0)


# -- state, for_ and delivery ----------------------------------------------------


@pytest.fixture
def signals():
    received = []

    def fired(sender, **kwargs):
        received.append(("fired", kwargs["name"], kwargs["value"]))

    def resolved(sender, **kwargs):
        received.append(("resolved", kwargs["name"], kwargs["value"]))

    alert_fired.connect(fired)
    alert_resolved.connect(resolved)
    yield received
    alert_fired.disconnect(fired)
    alert_resolved.disconnect(resolved)


def test_for_waits_before_firing_and_resolving_is_delivered(freeze_now, signals, caplog):
    freeze_now(T0)
    monitor.alert("busy", Rule("queue_length", stat="max", above=10, for_="3m", window="2m"))
    for minute in range(0, 8):
        add("queue_length", 50, T0 + minute * MINUTE)
    caplog.set_level(logging.INFO, logger="monitoring.alerts")

    assert [t.state for t in evaluate(T0 + MINUTE)] == ["pending"]
    assert evaluate(T0 + 3 * MINUTE) == []  # breached for 2 minutes only
    assert not mail.outbox and not signals
    assert [t.state for t in evaluate(T0 + 4 * MINUTE)] == ["firing"]
    assert signals == [("fired", "busy", 50)]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.com"]
    assert mail.outbox[0].subject == "[monitoring] FIRING: busy"
    assert evaluate(T0 + 5 * MINUTE) == []  # still firing: nothing new

    # The last point is at T0 + 7m; two minutes later the window is empty.
    assert evaluate(T0 + 8 * MINUTE) == []
    assert [t.state for t in evaluate(T0 + 10 * MINUTE)] == ["ok"]
    assert signals == [("fired", "busy", 50), ("resolved", "busy", None)]
    assert [m.subject for m in mail.outbox] == [
        "[monitoring] FIRING: busy",
        "[monitoring] RESOLVED: busy",
    ]
    history = [(t.previous, t.state) for t in AlertTransition.objects.order_by("at")]
    assert history == [("ok", "pending"), ("pending", "firing"), ("firing", "ok")]
    records = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "monitoring.alerts"
    ]
    assert records == [
        ("WARNING", "Alert busy is firing: queue_length max over 2m is 50, above 10."),
        (
            "INFO",
            "Alert busy is resolved: queue_length max over 2m is no value, no longer above 10.",
        ),
    ]


def test_pending_that_recovers_goes_back_to_ok_without_delivery(freeze_now, signals):
    freeze_now(T0)
    monitor.alert("busy", Rule("queue_length", stat="max", above=10, for_="5m", window="1m"))
    add("queue_length", 50, T0)
    assert [t.state for t in evaluate(T0 + MINUTE)] == ["pending"]
    assert [t.state for t in evaluate(T0 + 3 * MINUTE)] == ["ok"]
    assert not signals and not mail.outbox
    assert AlertTransition.objects.filter(notify=True).count() == 0


#: Django 6 takes addresses and deprecates the (name, address) pairs that 4.2 and 5.2 need.
ADMINS = ["admins@example.com"] if django.VERSION >= (6,) else [("Ops", "admins@example.com")]


@override_settings(ADMINS=ADMINS, MONITORING_SITE_URL="https://ex.com/")
def test_the_email_goes_to_admins_with_value_threshold_link_and_recent_values(data, settings):
    settings.MONITORING_ALERT_EMAILS = None
    monitor.alert("busy", Rule("queue_length", stat="last", above=1, description="Jobs pile up."))
    evaluate(T0)
    (message,) = mail.outbox
    assert message.to == ["admins@example.com"]
    assert message.subject == "[Django] FIRING: busy"
    assert message.body.splitlines() == [
        "Alert busy is firing: queue_length last over 5m is 2, above 1.",
        "",
        "Rule:      queue_length last over 5m above 1",
        "Value:     2",
        "Threshold: above 1",
        "Since:     2024-06-03 14:00:00 CEST",
        "About:     Jobs pile up.",
        "Chart:     https://ex.com/monitoring/queue_length/",
        "",
        "Recent values (last per bucket):",
        "  2024-06-03 13:56  5",
        "  2024-06-03 13:57  9",
        "  2024-06-03 13:59  2",
    ]


def test_a_restart_while_firing_sends_nothing_new(data, signals):
    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    evaluate(T0)
    assert len(mail.outbox) == 1 and len(signals) == 1
    # A new process: a fresh registry from the same code, the same database.
    monitor._alerts = {}
    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    assert evaluate(T0 + MINUTE) == []
    call_command("monitoring_alerts", stdout=__import__("io").StringIO())
    assert len(mail.outbox) == 1 and len(signals) == 1
    assert AlertTransition.objects.count() == 1


class FailingBackend:
    """An email backend whose server is down."""

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp is down")


def test_a_failing_email_is_retried_next_interval_and_evaluation_goes_on(data, caplog):
    monitor.alert("first", Rule("queue_length", stat="last", above=1))
    monitor.alert("second", Rule("orders", stat="sum", above=1))
    with override_settings(**mailer_settings("tests.test_alerts.FailingBackend")):
        transitions = evaluate(T0)
        assert [t.rule for t in transitions] == ["first", "second"]
        assert "The email of alert 'first' (fired) failed" in caplog.text
        # Half an interval later the claim still holds: no second try yet.
        evaluate(T0 + dt.timedelta(seconds=20))
    rows = AlertTransition.objects.order_by("id")
    assert [(t.attempts, t.emailed, t.error) for t in rows] == [
        (1, None, "ConnectionRefusedError: smtp is down")
    ] * 2
    assert not mail.outbox
    # The server is back: the next evaluation sends both, once.
    evaluate(T0 + MINUTE)
    assert sorted(m.subject for m in mail.outbox) == [
        "[monitoring] FIRING: first",
        "[monitoring] FIRING: second",
    ]
    assert [(t.attempts, t.error) for t in rows.all()] == [(2, ""), (2, "")]
    assert all(t.emailed is not None for t in rows.all())
    evaluate(T0 + 2 * MINUTE)
    assert len(mail.outbox) == 2


class SlowBackend:
    """A mail server so slow that later evaluations deliver while it is still sending."""

    sent: list = []
    #: The times of the deliveries that run during the next send, and what each sent.
    during: list = []
    nested: list = []

    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        SlowBackend.sent += [message.subject for message in messages]
        while SlowBackend.during:
            SlowBackend.nested.append(deliver(SlowBackend.during.pop(0)))
        return len(messages)


@pytest.fixture
def slow_mail():
    SlowBackend.sent, SlowBackend.during, SlowBackend.nested = [], [], []
    with override_settings(**mailer_settings("tests.test_alerts.SlowBackend")):
        yield SlowBackend


def test_a_slow_mail_server_does_not_get_the_same_email_twice(data, slow_mail, caplog):
    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    # The send takes 10 minutes: ten evaluations run meanwhile.
    slow_mail.during = [T0 + minutes * MINUTE for minutes in range(1, 11)]
    evaluate(T0)
    assert slow_mail.sent == ["[monitoring] FIRING: busy"]
    assert slow_mail.nested == [0] * 10
    transition = AlertTransition.objects.get()
    assert (transition.attempts, transition.emailed, transition.error) == (1, T0, "")
    assert "claim" not in caplog.text


def test_a_send_that_outlasts_its_claim_is_taken_over_and_logged(data, slow_mail, caplog):
    from monitoring.alerts import CLAIM_FOR

    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    # A send hung beyond the claim: another process takes the email over (as it
    # would from a process that died while sending), and the first one says so.
    slow_mail.during = [T0 + CLAIM_FOR + MINUTE]
    evaluate(T0)
    assert slow_mail.sent == ["[monitoring] FIRING: busy"] * 2
    assert slow_mail.nested == [1]
    assert (
        "The email of alert 'busy' (fired) took longer to send than its claim lasts (15m), "
        "and another process may have sent it too" in caplog.text
    )
    transition = AlertTransition.objects.get()
    assert (transition.attempts, transition.emailed) == (2, T0 + CLAIM_FOR + MINUTE)
    assert deliver(T0 + CLAIM_FOR + 2 * MINUTE) == 0
    assert len(slow_mail.sent) == 2


def test_a_rule_that_fails_to_evaluate_does_not_stop_the_others(data, caplog):
    broken = Rule("queue_length", stat="last", above=1)
    monitor.alert("broken", broken)
    monitor.alert("fine", Rule("orders", stat="sum", above=1))
    broken.monitor = "gone"  # as if its monitor were unregistered behind its back
    assert [t.rule for t in evaluate(T0)] == ["fine"]
    assert "Alert 'broken' could not be evaluated." in caplog.text


def test_a_failing_signal_receiver_is_logged_and_delivery_goes_on(data, caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("webhook down")

    alert_fired.connect(broken)
    try:
        monitor.alert("busy", Rule("queue_length", stat="last", above=1))
        evaluate(T0)
    finally:
        alert_fired.disconnect(broken)
    assert "a receiver of alert_fired for alert 'busy', failed" in caplog.text
    assert len(mail.outbox) == 1


def test_emails_older_than_a_day_are_no_longer_tried(data):
    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    with override_settings(**mailer_settings("tests.test_alerts.FailingBackend")):
        evaluate(T0)
    assert deliver(T0 + dt.timedelta(days=1, minutes=1)) == 0
    assert deliver(T0 + dt.timedelta(hours=23)) == 1


def test_the_command_evaluates_once_and_reports(data):
    import io

    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    monitor.alert("calm", Rule("queue_length", stat="last", above=100))
    out = io.StringIO()
    call_command("monitoring_alerts", stdout=out)
    assert out.getvalue().splitlines() == [
        "  busy: firing, value 2 (queue_length last over 5m above 1)",
        "  calm: ok, value 2 (queue_length last over 5m above 100)",
        "busy: ok -> firing",
        "Evaluated 2 rules: 1 transitions.",
    ]
    assert len(mail.outbox) == 1


def test_the_command_without_rules():
    import io

    out = io.StringIO()
    call_command("monitoring_alerts", stdout=out)
    assert out.getvalue() == "No alert rules are registered.\n"


# -- two processes evaluating at once --------------------------------------------

#: Minutes after T0 with a point, and the steps both workers evaluate at: each
#: step fires (a point in the window) or resolves (none), three times over.
POINT_MINUTES = [0, 20, 40]
STEPS = [1, 10, 21, 30, 41, 50]


def _evaluate_in_two_processes(tmp_path):
    for minute in POINT_MINUTES:
        add("user_count", 1, T0 + minute * MINUTE)
    steps = ",".join(str(minute) for minute in STEPS for _ in range(3))
    workers = [start_worker("alerts_worker.py", tmp_path, index, steps) for index in range(2)]
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        assert "evaluated 18 steps" in out
    subjects = sorted(
        line
        for path in (tmp_path / "mail").iterdir()
        for line in path.read_text().splitlines()
        if line.startswith("Subject:")
    )
    assert subjects == sorted(
        ["Subject: [monitoring] FIRING: signups"] * 3
        + ["Subject: [monitoring] RESOLVED: signups"] * 3
    )
    assert AlertTransition.objects.count() == 6
    assert AlertTransition.objects.filter(emailed=None).count() == 0


@pytest.mark.slow
@pytest.mark.sqlite_file
@pytest.mark.django_db(transaction=True)
def test_two_processes_send_one_email_per_transition_sqlite(tmp_path):
    _evaluate_in_two_processes(tmp_path)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_send_one_email_per_transition_postgres(tmp_path):
    _evaluate_in_two_processes(tmp_path)


# -- system checks ----------------------------------------------------------------


def alert_check_ids(**settings_):
    from django.core.checks import run_checks

    with override_settings(**settings_):
        return [m.id for m in run_checks() if m.id[len("monitoring.") + 1 :].startswith("05")]


@pytest.mark.parametrize(
    ("settings_", "ids"),
    [
        ({}, []),
        ({"MONITORING_ALERT_INTERVAL": 0}, ["monitoring.E050"]),
        ({"MONITORING_ALERT_INTERVAL": "60"}, ["monitoring.E050"]),
        ({"MONITORING_ALERT_EMAILS": "ops@example.com"}, ["monitoring.E051"]),
        ({"MONITORING_ALERT_EMAILS": ["ops"]}, ["monitoring.E051"]),
        ({"MONITORING_HEALTH_TOKEN": " "}, ["monitoring.E052"]),
        ({"MONITORING_HEALTH_TOKEN": 123}, ["monitoring.E052"]),
        ({"MONITORING_HEALTH_FLUSH_LAG": -1}, ["monitoring.E053"]),
        ({"MONITORING_ALERT_EMAILS": None, "ADMINS": []}, []),  # no rules: nothing to send
    ],
)
def test_alert_settings_are_checked(settings_, ids):
    assert alert_check_ids(**settings_) == ids


def test_rules_without_anybody_to_email_are_a_warning():
    monitor.alert("x", Rule("orders", above=1))
    assert alert_check_ids(MONITORING_ALERT_EMAILS=None, ADMINS=[]) == ["monitoring.W050"]
    assert alert_check_ids(MONITORING_ALERT_EMAILS=None, ADMINS=ADMINS) == []
    assert alert_check_ids(MONITORING_ALERT_EMAILS=["ops@example.com"], ADMINS=[]) == []


# -- the periodic evaluation -------------------------------------------------------


@pytest.fixture
def no_jobs():
    from monitoring import jobs

    saved = dict(jobs.jobs)
    jobs.jobs.clear()
    yield jobs
    jobs.jobs.clear()
    jobs.jobs.update(saved)


def test_rules_are_evaluated_once_per_interval_through_the_jobs(data, no_jobs, settings):
    from monitoring.alerts import schedule

    schedule()
    assert no_jobs.jobs == {}  # no rules, no job
    settings.MONITORING_ALERT_INTERVAL = 120
    monitor.alert("busy", Rule("queue_length", stat="last", above=1))
    schedule()
    assert no_jobs.jobs["alerts"].interval == 120
    assert no_jobs.run_due(T0.timestamp()) == ["alerts"]
    assert AlertState.objects.get(rule="busy").state == "firing"
    assert len(mail.outbox) == 1
    # The same tick is not run twice, by this process or another.
    no_jobs.jobs["alerts"].due = 0
    assert no_jobs.run_due(T0.timestamp() + 60) == []
    assert AlertTransition.objects.count() == 1


def test_the_dashboard_answers_its_banner_alone_for_auto_refresh(staff_client):
    from django.test import Client

    monitor.alert("busy", Rule("queue_length", above=10))
    AlertState.objects.create(rule="busy", state="firing", since=T0, value=12)
    url = "/monitoring/?range=24h&part=banner"
    response = staff_client.get(url)
    text = response.content.decode()
    assert response.status_code == 200
    assert text.startswith('<div class="monitoring-banner-slot">')
    assert 'data-rule="busy"' in text and "(value 12)" in text
    assert "monitoring-card" not in text and "<html" not in text
    AlertState.objects.filter(rule="busy").update(state="ok")
    assert staff_client.get(url).content.decode().strip() == (
        '<div class="monitoring-banner-slot"></div>'
    )
    assert Client().get(url).status_code == 302  # to the login page, like the dashboard
