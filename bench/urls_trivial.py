"""The trivial view bench/middleware.py times, with and without the built-in middleware."""

from django.http import HttpResponse
from django.urls import path


def trivial(request):
    return HttpResponse("ok")


urlpatterns = [path("trivial/", trivial, name="trivial")]
