"""Views that add a data point, for the request-end flush tests."""

from django.http import HttpResponse
from django.urls import path

from monitoring.register import monitor


def add(request):
    monitor.get("user_count").add(1)
    return HttpResponse("added")


async def add_async(request):
    monitor.get("user_count").add(1)
    return HttpResponse("added")


urlpatterns = [path("add/", add), path("add-async/", add_async)]
