import sys
import types

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db import models as dj_models
from django.test.utils import isolate_apps
from django.utils.module_loading import autodiscover_modules

from monitoring.exceptions import AlreadyRegistered, NotRegistered
from monitoring.models import IntegerCountBase
from monitoring.register import Monitor, MonitorRegistry, monitor
from monitoring.views import DurationView, IntegerCountView, MonitorView, ValueView
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
    MonitorUserCount,
)


@pytest.fixture
def registry():
    return MonitorRegistry()


def test_register_returns_a_handle_with_the_model_from_the_view(registry):
    handle = registry.register("user_count", IntegerCountView.as_view(model=MonitorUserCount))
    assert isinstance(handle, Monitor)
    assert handle.model is MonitorUserCount
    assert handle.name == "user_count"
    assert handle.title == "User count"
    assert handle.kind == "count"
    assert registry.get("user_count") is handle
    assert registry.is_registered("user_count")
    assert "user_count" in registry
    assert len(registry) == 1


def test_register_takes_the_model_from_the_view_class(registry):
    class UserCountView(IntegerCountView):
        model = MonitorUserCount

    handle = registry.register("user_count", UserCountView.as_view())
    assert handle.model is MonitorUserCount


def test_presentation_options_are_kept(registry):
    handle = registry.register(
        "queue",
        ValueView.as_view(model=MonitorQueueLength),
        title="Queue",
        category="System",
        order=3,
        unit="jobs",
        description="Waiting jobs.",
    )
    assert (handle.title, handle.category, handle.order, handle.unit, handle.description) == (
        "Queue",
        "System",
        3,
        "jobs",
        "Waiting jobs.",
    )


def test_duplicate_name_raises_already_registered_naming_it(registry):
    registry.register("user_count", IntegerCountView.as_view(model=MonitorUserCount))
    with pytest.raises(AlreadyRegistered, match="'user_count' is already registered"):
        registry.register("user_count", IntegerCountView.as_view(model=MonitorOrderCount))
    assert registry.get("user_count").model is MonitorUserCount


@pytest.mark.parametrize("name", ["user count", "", "naïve", "a/b", "x.y", None, 3])
def test_name_must_be_a_slug(registry, name):
    with pytest.raises(ValueError, match="is not a slug"):
        registry.register(name, IntegerCountView.as_view(model=MonitorUserCount))
    assert len(registry) == 0


def test_view_without_model_is_improperly_configured(registry):
    with pytest.raises(ImproperlyConfigured, match="'nomodel' has no model"):
        registry.register("nomodel", IntegerCountView.as_view())


def test_view_class_instead_of_view_function_is_explained(registry):
    with pytest.raises(ImproperlyConfigured, match=r"pass IntegerCountView.as_view\(model="):
        registry.register("x", IntegerCountView)


def test_abstract_model_is_improperly_configured(registry):
    with pytest.raises(ImproperlyConfigured, match="IntegerCountBase is abstract"):
        registry.register("abstract", IntegerCountView.as_view(model=IntegerCountBase))


def test_model_not_built_on_a_base_is_improperly_configured(registry):
    from django.contrib.auth.models import Group

    with pytest.raises(ImproperlyConfigured, match="not built on one of monitoring's bases"):
        registry.register("groups", IntegerCountView.as_view(model=Group))


def test_view_must_suit_the_models_kind(registry):
    with pytest.raises(ImproperlyConfigured, match="IntegerCountView shows count monitors"):
        registry.register("timings", IntegerCountView.as_view(model=MonitorRequestTime))
    with pytest.raises(ImproperlyConfigured, match="DurationView shows duration monitors"):
        registry.register("load", DurationView.as_view(model=MonitorLoadAverage))


def test_generic_monitor_view_accepts_any_kind(registry):
    handle = registry.register("load", MonitorView.as_view(model=MonitorLoadAverage))
    assert handle.kind == "value"


def test_one_model_cannot_back_two_monitors(registry):
    registry.register("a", IntegerCountView.as_view(model=MonitorUserCount))
    with pytest.raises(ImproperlyConfigured, match="already belongs to the monitor 'a'"):
        registry.register("b", IntegerCountView.as_view(model=MonitorUserCount))


def test_unregister(registry):
    registry.register("user_count", IntegerCountView.as_view(model=MonitorUserCount))
    registry.unregister("user_count")
    assert not registry.is_registered("user_count")
    assert len(registry) == 0
    with pytest.raises(NotRegistered, match="No monitor named 'user_count'"):
        registry.unregister("user_count")


def test_get_unknown_name_suggests_close_names():
    with pytest.raises(NotRegistered) as excinfo:
        monitor.get("user_cont")
    assert str(excinfo.value) == "No monitor named 'user_cont'. Did you mean 'user_count'?"
    # NotRegistered is a KeyError, so dict-style handling keeps working.
    assert isinstance(excinfo.value, KeyError)


def test_get_unknown_name_lists_monitors_when_nothing_is_close():
    with pytest.raises(NotRegistered, match="Registered monitors: .*user_count"):
        monitor.get("zzzzzz")


def test_get_on_an_empty_registry_explains_setup(registry):
    with pytest.raises(NotRegistered, match="No monitors are registered"):
        registry.get("user_count")


def test_iteration_is_in_dashboard_order(registry):
    registry.register("b", ValueView.as_view(model=MonitorQueueLength), category="System", order=2)
    registry.register("a", ValueView.as_view(model=MonitorLoadAverage), category="System", order=2)
    registry.register("c", DurationView.as_view(model=MonitorRequestTime), category="System")
    registry.register("z", IntegerCountView.as_view(model=MonitorUserCount))
    registry.register("y", IntegerCountView.as_view(model=MonitorOrderCount), category="Shop")
    assert [m.name for m in registry] == ["z", "y", "c", "a", "b"]


def test_autodiscovery_registered_the_test_apps_monitors():
    assert {"user_count", "orders", "queue_length", "load_average", "request_time"} <= {
        m.name for m in monitor
    }
    assert monitor.get("user_count").model is MonitorUserCount
    assert monitor.get("user_count").category == "Users"


def test_registering_in_models_py_still_works():
    # test_app/models.py registers user_count, as the seed's test app did.
    assert monitor.get("user_count").title == "New users"
    # The demo's own login monitor gave way to the built-in one.
    assert not monitor.is_registered("login_count")
    assert monitor.get("logins").model.__module__ == "monitoring.contrib.auth.models"


def test_autodiscovery_restores_the_registry_when_a_module_fails(tmp_path, monkeypatch):
    package = tmp_path / "brokenmonitors"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "monitoring.py").write_text(
        "from monitoring.register import monitor\n"
        "from monitoring.views import IntegerCountView\n"
        "from test_app.models import MonitorUserCount\n"
        "monitor._registry['half'] = object()\n"
        "raise RuntimeError('broken monitoring.py')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__("brokenmonitors")
    fake_config = types.SimpleNamespace(name="brokenmonitors", module=module)
    monkeypatch.setattr(apps, "get_app_configs", lambda: [fake_config])
    before = dict(monitor._registry)
    with pytest.raises(RuntimeError, match="broken monitoring.py"):
        autodiscover_modules("monitoring", register_to=monitor)
    assert monitor._registry == before
    sys.modules.pop("brokenmonitors.monitoring", None)
    sys.modules.pop("brokenmonitors", None)


@isolate_apps("test_app")
def test_model_with_a_field_named_at_is_refused(registry):
    class MonitorWithAt(IntegerCountBase):
        at = dj_models.CharField(max_length=5, default="x")

        class Meta:
            app_label = "test_app"

    with pytest.raises(ImproperlyConfigured, match="field named 'at'"):
        registry.register("with_at", IntegerCountView.as_view(model=MonitorWithAt))


@pytest.mark.django_db
def test_time_records_a_duration_as_context_manager_and_decorator():
    handle = monitor.get("request_time")
    with handle.time():
        pass

    @handle.time()
    def work():
        return 42

    assert work() == 42
    values = list(MonitorRequestTime.objects.values_list("value", flat=True))
    assert len(values) == 2
    assert all(0 <= value < 1000 for value in values)


@pytest.mark.django_db
def test_time_records_even_when_the_block_raises():
    with pytest.raises(ZeroDivisionError), monitor.get("request_time").time():
        1 / 0  # noqa: B018
    assert MonitorRequestTime.objects.count() == 1


def test_time_is_only_for_durations():
    with pytest.raises(TypeError, match="'user_count' is a count monitor"):
        monitor.get("user_count").time()


def test_time_checks_dimensions_up_front():
    with pytest.raises(TypeError, match="unknown dimension"):
        monitor.get("request_time").time(route="/")


class FakeClock:
    """A perf_counter() that returns what the test sets, in seconds."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    from monitoring import register

    fake = FakeClock()
    monkeypatch.setattr(register.time, "perf_counter", fake)
    return fake


@pytest.mark.django_db
def test_time_records_milliseconds(clock):
    with monitor.get("request_time").time():
        clock.now += 0.25
    assert list(MonitorRequestTime.objects.values_list("value", flat=True)) == [250.0]


@pytest.mark.django_db(transaction=True)
def test_overlapping_timings_in_threads_each_time_themselves(clock):
    import threading

    timer = monitor.get("request_time").time()  # one context manager shared by two threads
    entered, leave_first = threading.Event(), threading.Event()

    def first():
        with timer:
            entered.set()
            leave_first.wait(5)
        connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    entered.wait(5)  # first started at 100.0
    clock.now += 0.2
    with timer:  # second starts at 100.2
        clock.now += 0.4  # 100.6: the first ends here...
        leave_first.set()
        thread.join(5)
        clock.now += 0.2  # ...the second at 100.8
    values = sorted(MonitorRequestTime.objects.values_list("value", flat=True))
    assert values == [pytest.approx(600.0), pytest.approx(600.0)]


@pytest.mark.django_db
def test_a_decorated_function_times_each_overlapping_call(clock):
    handle = monitor.get("request_time")

    @handle.time()
    def nested(depth):
        clock.now += 0.1
        if depth:
            nested(depth - 1)
        clock.now += 0.1

    nested(1)  # the outer call spans the inner one: 400 ms and 200 ms
    values = sorted(MonitorRequestTime.objects.values_list("value", flat=True))
    assert values == [pytest.approx(200.0), pytest.approx(400.0)]


def test_flush_and_stats_are_storage_controls_re_exported_by_the_registry():
    from monitoring import storage

    assert monitor.stats().keys() == storage.stats().keys()
    assert "rejected_reasons" in monitor.stats()
    assert MonitorRegistry.flush.__doc__ and callable(storage.flush)


def test_old_private_mixin_names_stay_importable_for_written_migrations():
    from monitoring.models import FloatMixin, IntegerMixin, _FloatMixin, _IntegerMixin

    assert _IntegerMixin is IntegerMixin and _FloatMixin is FloatMixin


def test_the_built_in_monitors_come_after_the_project_s_own():
    order = [handle.model.__module__.startswith("monitoring.contrib.") for handle in monitor]
    assert order == sorted(order)
    assert order[0] is False and order[-1] is True
    assert [h.category for h in monitor if h.category in ("Users", "Accounts")][:1] == ["Users"]


def test_names_longer_than_their_columns_are_refused_and_nothing_is_half_registered():
    from monitoring import jobs
    from monitoring.alerts import Rule
    from monitoring.views import IntegerCountView
    from test_app.models import MonitorOrderCount

    with pytest.raises(ValueError, match="longer than 100 characters"):
        monitor.register("x" * 101, IntegerCountView.as_view(model=MonitorOrderCount))
    with pytest.raises(ValueError, match="longer than 100 characters"):
        monitor.alert("a" * 101, Rule("orders", above=1))
    # A sampled gauge's job name is longer than its name: refused before registering.
    with pytest.raises(ValueError, match="1 to 96 characters"):
        monitor.sample("s" * 95, lambda: 1, every="1m")
    assert "s" * 95 not in [handle.name for handle in monitor]
    assert not [name for name in jobs.jobs if "s" * 95 in name]
