"""Hypothesis over every view's query parameters: never a 500; a 400 names the parameter.

The views: the dashboard (its ``part`` too), the page, card, JSON and CSV of a count, a
duration, a gauge, a chart of an existing table and a sampled gauge, ``/monitoring/metrics``
(with its token) and ``/monitoring/health``.

Heavy (``-m heavy``): .ci/run runs it on a SQLite file and on PostgreSQL, in two
site time zones, with MONITORING_FUZZ_EXAMPLES examples each (500 by default;
bench/fuzz.py sets 10000). With MONITORING_FUZZ_REPORT naming a file, each test
appends a line to it, "<test id>\t<examples run>", when it ends (bench/fuzz.py reads it).
"""

import contextlib
import datetime as dt
import html
import json
import os

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.register import monitor

pytestmark = [pytest.mark.heavy, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("MONITORING_FUZZ_EXAMPLES", "500"))
REPORT = os.environ.get("MONITORING_FUZZ_REPORT")


@contextlib.contextmanager
def counted(request):
    """Yield a list whose first item counts the examples run; report it when the test ends.

    Reported also when the test fails or is interrupted (bench/fuzz.py's time bound sends
    SIGINT), so a partial run still says how far it got.
    """
    run = [0]
    try:
        yield run
    finally:
        if REPORT:
            with open(REPORT, "a") as report:
                report.write(f"{request.node.nodeid}\t{run[0]}\n")


TOKEN = "s3cret-fuzz-token"
# Every view, and a monitor of every kind: a count with a dimension, a duration, a gauge, a
# chart of an existing table (register_model, with a boolean dimension) and a sampled gauge.
PATHS = ["/monitoring/", "/monitoring/orders/", "/monitoring/request_time/",
         "/monitoring/load_average/", "/monitoring/revenue/", "/monitoring/unpaid_orders/",
         "/monitoring/metrics", "/monitoring/health"]  # fmt: skip
KNOWN = ["format", "range", "start", "end", "resolution", "split", "top", "plan", "paid",
         "refresh", "cards", "stat", "part"]  # fmt: skip

moments = st.datetimes(
    min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31), timezones=st.timezones()
)
values = st.one_of(
    st.text(max_size=30),  # unicode, NUL, anything
    st.sampled_from(
        [
            "json",
            "csv",
            "card",
            "html",
            "1h",
            "24h",
            "7d",
            "90d",
            "minute",
            "hour",
            "day",
            "pro",
            "true",
            "banner",
            "none",
            "",
            "-1",
            "0",
            "1e309",
            "nan",
        ]
    ),  # fmt: skip
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    moments.map(lambda m: m.isoformat()),
    st.dates().map(str),
)
parameters = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=12)), values, max_size=6
)


def names_a_parameter(body, params):
    """Return whether a 400's body names one of ``params``' keys (JSON: in its fields)."""
    text = body.decode(errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        # A page: the key as typed, or as its repr() in the message, HTML-escaped.
        text = html.unescape(text)
        return any(key in text or repr(key)[1:-1] in text for key in params)
    named = {data.get("parameter"), *data.get("errors", {})}
    return bool(named & set(params))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/St_Johns"])
def test_query_parameters_never_make_a_500(zone, staff_client, request):
    from test_app.models import Order

    at = dt.datetime(2024, 6, 3, 12, tzinfo=dt.timezone.utc)
    for i in range(5):
        monitor.get("orders").add(i + 1, at=at - dt.timedelta(hours=i), plan="pro")
        monitor.get("request_time").add(10.0 * (i + 1), at=at)
        monitor.get("load_average").add(0.5 * i, at=at - dt.timedelta(minutes=i))
        Order.objects.create(placed=at - dt.timedelta(hours=i), total=i + 0.5, paid=i % 2 == 0)
        monitor.get("unpaid_orders").sample(now=(at - dt.timedelta(minutes=i)).timestamp())

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(path=st.sampled_from(PATHS), params=parameters)
    def check(path, params):
        run[0] += 1
        response = staff_client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        # /monitoring/health answers 503 while a check fails: a valid answer too.
        valid = (200, 400, 503) if path == "/monitoring/health" else (200, 400)
        assert response.status_code in valid, (response.status_code, path, params)
        if response.status_code == 400:
            assert names_a_parameter(response.content, params), (params, response.content[:300])
        elif path == "/monitoring/health":
            assert response.json()["status"] in ("ok", "error"), response.content
        elif path == "/monitoring/metrics":
            text = response.content.decode()
            assert "# TYPE monitoring_revenue_total counter" in text, text[:300]

    with (
        override_settings(
            TIME_ZONE=zone, MONITORING_METRICS_TOKEN=TOKEN, MONITORING_HEALTH_TOKEN=TOKEN
        ),
        counted(request) as run,
    ):
        check()


any_value = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=10),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(object),
)
any_at = st.one_of(
    st.none(),
    st.datetimes(
        min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31), timezones=st.none()
    ),
    moments,
    st.text(max_size=10),
    st.integers(),
)
any_dimensions = st.dictionaries(
    st.sampled_from(["plan", "customer", "zone", "value", "at"]),
    st.one_of(any_value, st.sampled_from(["free", "pro", "team"])),
    max_size=3,
)


@pytest.mark.django_db(transaction=True)
def test_add_either_refuses_clearly_and_writes_nothing_or_stores_exactly(buffered, request):
    from test_app.models import MonitorLoadAverage, MonitorOrderCount

    cases = [("orders", MonitorOrderCount), ("load_average", MonitorLoadAverage)]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=st.sampled_from(cases), value=any_value, at=any_at, dims=any_dimensions)
    def check(case, value, at, dims):
        run[0] += 1
        name, model = case
        before = model.objects.count()
        called = timezone.now()
        try:
            monitor.get(name).add(value, at=at, **dims)
        except (TypeError, ValueError) as exc:
            assert str(exc)  # a message that says what is wrong
            assert monitor.stats()["pending"] == 0  # nothing kept for the flusher
            return
        assert monitor.flush() == 1
        stats = monitor.stats()
        assert stats["rejected"] == 0, stats["rejected_reasons"]  # the flusher refused nothing
        assert model.objects.count() == before + 1
        stored = model.objects.latest("pk")
        assert stored.value == value or float(stored.value) == float(value)
        if "plan" in dims and name == "orders":
            assert stored.plan == dims["plan"]
        # The moment passed, to the microsecond raw rows store (datetimes hold no finer),
        # whatever its zone; or the moment of the call.
        if at is None:
            assert called <= stored.created <= timezone.now()
        else:
            assert stored.created == at, (stored.created, at)

    with counted(request) as run:
        check()
