"""test_app's URLs plus the views the load tests and bench/load.py drive.

``/load/add/`` adds 1 to ``user_count``; ``/load/order/?plan=`` adds 1 to
``orders`` with a dimension; ``/load/async-add/`` is an async view that adds
1 to ``user_count`` (served by uvicorn in bench/load.py); ``/load/plain/``
adds nothing, the baseline without monitoring.
"""

from django.http import HttpResponse
from django.urls import include, path

from monitoring.register import monitor


def add(request):
    monitor.get("user_count").add(1)
    return HttpResponse("ok")


def order(request):
    monitor.get("orders").add(1, plan=request.GET.get("plan", "free"))
    return HttpResponse("ok")


async def async_add(request):
    monitor.get("user_count").add(1)
    return HttpResponse("ok")


def plain(request):
    return HttpResponse("ok")


urlpatterns = [
    path("load/add/", add),
    path("load/order/", order),
    path("load/async-add/", async_add),
    path("load/plain/", plain),
    path("", include("test_app.urls")),
]
