"""Views for the built-in monitors' tests: plain, failing, missing, async and query-running."""

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.urls import include, path


def ok(request):
    return HttpResponse("ok")


def boom(request):
    raise ValueError("the view is on fire")


def missing(request):
    raise Http404("nothing here")


async def ok_async(request):
    return HttpResponse("ok")


def three_queries(request):
    users = get_user_model().objects
    return HttpResponse(str(users.count() + users.count() + users.count()))


async def three_queries_async(request):
    users = get_user_model().objects
    return HttpResponse(str(await users.acount() + await users.acount() + await users.acount()))


urlpatterns = [
    path("ok/", ok, name="ok"),
    path("boom/", boom, name="boom"),
    path("missing/", missing, name="missing"),
    path("async/", ok_async, name="ok-async"),
    path("queries/", three_queries, name="queries"),
    path("queries-async/", three_queries_async, name="queries-async"),
    path("health/", ok, name="health"),
    path("monitoring/", include("monitoring.urls")),
]
