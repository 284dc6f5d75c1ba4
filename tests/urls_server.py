"""test_app's URLs plus the views the load tests and bench/load.py drive.

``/load/add/`` adds 1 to ``user_count``; ``/load/order/?plan=`` adds 1 to
``orders`` with a dimension; ``/load/async-add/`` and
``/load/async-order/?plan=`` are their async twins (served by uvicorn in
bench/load.py); ``/load/plain/`` adds nothing (the readiness probe and the
load generators' drain; MonitoringMiddleware skips it). In the bare server of
bench/load.py (settings ``LOAD_BARE``) no view adds anything.
"""

from django.conf import settings
from django.http import HttpResponse
from django.urls import include, path

from monitoring.register import monitor


def add(request):
    if not settings.LOAD_BARE:
        monitor.get("user_count").add(1)
    return HttpResponse("ok")


def order(request):
    if not settings.LOAD_BARE:
        monitor.get("orders").add(1, plan=request.GET.get("plan", "free"))
    return HttpResponse("ok")


async def async_add(request):
    if not settings.LOAD_BARE:
        monitor.get("user_count").add(1)
    return HttpResponse("ok")


async def async_order(request):
    if not settings.LOAD_BARE:
        monitor.get("orders").add(1, plan=request.GET.get("plan", "free"))
    return HttpResponse("ok")


def plain(request):
    return HttpResponse("ok")


urlpatterns = [
    path("load/add/", add),
    path("load/order/", order),
    path("load/async-add/", async_add),
    path("load/async-order/", async_order),
    path("load/plain/", plain),
    path("", include("test_app.urls")),
]
