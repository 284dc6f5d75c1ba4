"""Who may see what: every URL the app serves x every kind of requester x every method.

A URL is one line of ``URLS``: its GET status for each requester kind, in
the order of ``KINDS``. The other methods follow from it (see ``expected``).
Every denied answer is checked for leaks: no monitor name, title or stored
value in its body.
"""

import pytest
from django.contrib.auth.models import Permission
from django.db.models.signals import post_save
from django.test import Client, override_settings
from factory.django import mute_signals

from monitoring.register import monitor
from tests.factories import StaffFactory, UserFactory

KINDS = ["anonymous", "non-staff", "inactive staff", "staff", "superuser", "permission only",
         "right token", "wrong token"]  # fmt: skip

#: GET status per requester kind, in the order of KINDS. HEAD answers as GET.
URLS = {
    "/monitoring/":                         (302, 403, 302, 200, 200, 200, 302, 302),
    "/monitoring/?part=banner":             (302, 403, 302, 200, 200, 200, 302, 302),
    "/monitoring/user_count/":              (302, 403, 302, 200, 200, 200, 302, 302),
    "/monitoring/user_count/?format=card":  (302, 403, 302, 200, 200, 200, 302, 302),
    "/monitoring/user_count/?format=json":  (401, 403, 401, 200, 200, 200, 401, 401),
    "/monitoring/user_count/?format=csv":   (401, 403, 401, 200, 200, 200, 401, 401),
    "/monitoring/metrics":                  (401, 403, 401, 200, 200, 200, 200, 401),
    "/monitoring/health":                   (401, 403, 401, 200, 200, 200, 200, 401),
    "/admin/":                              (302, 302, 302, 200, 200, 302, 302, 302),
    "/admin/monitoring/rollup/":            (302, 302, 302, 403, 200, 302, 302, 302),
    "/admin/monitoring/rollupbin/":         (302, 302, 302, 403, 200, 302, 302, 302),
    "/admin/monitoring/annotation/":        (302, 302, 302, 403, 200, 302, 302, 302),
    "/admin/monitoring/alertstate/":        (302, 302, 302, 403, 200, 302, 302, 302),
    "/admin/monitoring/alerttransition/":   (302, 302, 302, 403, 200, 302, 302, 302),
    # A raw table's read-only admin (monitoring.admin.register_raw): its list, a row, and
    # the add and delete views nobody may use. {pk} is a row the test adds.
    "/admin/test_app/monitorusercount/":    (302, 302, 302, 403, 200, 302, 302, 302),
    "/admin/test_app/monitorusercount/{pk}/change/":
                                            (302, 302, 302, 403, 200, 302, 302, 302),
    "/admin/test_app/monitorusercount/{pk}/delete/":
                                            (302, 302, 302, 403, 403, 302, 302, 302),
    "/admin/test_app/monitorusercount/add/":
                                            (302, 302, 302, 403, 403, 302, 302, 302),
}  # fmt: skip

#: URLs that answer only GET and HEAD, before asking who you are: anything else is 405.
SAFE_ONLY = {"/monitoring/metrics", "/monitoring/health"}
#: Django's admin views answer every method as they answer GET (POST runs admin actions).
ANY_METHOD = {path for path in URLS if path.startswith("/admin/")}
#: Read-only admin forms: a POST (a save) is refused to those who may view them.
READ_ONLY_FORMS = {"/admin/test_app/monitorusercount/{pk}/change/"}

METHODS = ["get", "head", "post", "put", "delete", "options"]
TOKEN = "s3cret-metrics-token"
PERMISSION = "test_app.view_monitorusercount"
#: A monitor name, title and stored value no denied answer may show.
SECRET_NAME, SECRET_TITLE, SECRET_VALUE = "secret_sales", "Quarterly Secret Sales", 7_654_321


def expected(path, kind, method, csrf):
    """Return the status ``method`` gets on ``path`` for ``kind``."""
    get = URLS[path][KINDS.index(kind)]
    unsafe = method in ("post", "put", "delete")
    if unsafe and csrf:
        # Django's CSRF protection refuses them before any view, for everybody.
        return 403
    if method == "post" and path in READ_ONLY_FORMS and get == 200:
        return 403
    if method in ("get", "head") or path in ANY_METHOD:
        return get
    if path in SAFE_ONLY:
        return 405
    # Monitoring's views: the access check first, then 405 for what they don't answer.
    if method == "options":
        return get
    return 405 if get == 200 else get


@pytest.fixture
def requesters(db, settings):
    # The users' passwords are never checked: hash them fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with mute_signals(post_save):
        users = {
            "non-staff": UserFactory(),
            "inactive staff": StaffFactory(is_active=False),
            "staff": StaffFactory(),
            "superuser": StaffFactory(is_superuser=True),
            "permission only": UserFactory(),
        }
    users["permission only"].user_permissions.add(
        Permission.objects.get(codename="view_monitorusercount")
    )
    return users


def client_for(users, kind, csrf):
    client = Client(enforce_csrf_checks=csrf)
    if kind in users:
        client.force_login(users[kind])
    return client


def request(users, kind, method, path, csrf, client=None):
    client = client or client_for(users, kind, csrf)
    headers = {}
    if kind == "right token":
        headers["Authorization"] = f"Bearer {TOKEN}"
    elif kind == "wrong token":
        headers["Authorization"] = "Bearer not-the-token"
    overrides = {"MONITORING_PERMISSION": PERMISSION} if kind == "permission only" else {}
    with override_settings(**overrides):
        return getattr(client, method)(path, headers=headers)


def assert_no_leak(response, path):
    body = response.content.decode(errors="replace")
    # The requested path may come back in a login link; nothing else may.
    secrets = [SECRET_NAME, SECRET_TITLE, str(SECRET_VALUE), str(monitor.get("user_count").title)]
    if "user_count" not in path:
        secrets.append("user_count")
    for secret in secrets:
        assert secret not in body, (path, secret)
    if response.status_code == 302:
        assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("csrf", [True, False], ids=["csrf", "no-csrf"])
@pytest.mark.parametrize("path", list(URLS))
@override_settings(
    MONITORING_METRICS_TOKEN=TOKEN, MONITORING_METRICS_STAFF=True, MONITORING_HEALTH_TOKEN=TOKEN
)
def test_access_matrix(path, csrf, requesters):
    from monitoring.views import ValueView
    from test_app.models import MonitorQueueLength, MonitorUserCount

    monitor.unregister("queue_length")
    monitor.register(SECRET_NAME, ValueView.as_view(model=MonitorQueueLength), title=SECRET_TITLE)
    monitor.get(SECRET_NAME).add(SECRET_VALUE)
    monitor.get("user_count").add(SECRET_VALUE)
    url = path.format(pk=MonitorUserCount.objects.get().pk)
    wrong = []
    # Safe methods don't depend on CSRF checks: the "csrf" run tries only unsafe ones.
    methods = ["post", "put", "delete"] if csrf else METHODS
    for kind in KINDS:
        client = client_for(requesters, kind, csrf)
        for method in methods:
            response = request(requesters, kind, method, url, csrf, client)
            want = expected(path, kind, method, csrf)
            if response.status_code != want:
                wrong.append((kind, method.upper(), response.status_code, want))
            if response.status_code != 200:
                assert_no_leak(response, url)
    assert wrong == [], f"(requester, method, got, expected): {wrong}"


@override_settings(MONITORING_METRICS_TOKEN=None, MONITORING_METRICS_STAFF=False)
def test_metrics_without_token_or_staff_setting_is_404_for_everybody(requesters):
    for kind in KINDS:
        assert request(requesters, kind, "get", "/monitoring/metrics", False).status_code == 404
