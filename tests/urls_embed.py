"""test_app's URLs plus plain staff pages that embed cards with the template tags."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

from test_app.urls import urlpatterns as test_app_urlpatterns

PAGE = (
    "{% load monitoring %}<!DOCTYPE html><html lang='en-us'><head><title>Staff page</title>"
    "{% monitoring_assets %}</head><body><h1>Our staff page</h1>"
    "{% monitoring_card 'user_count' range='24h' %}</body></html>"
)

# The same monitor twice, over two ranges: each card needs ids of its own.
TWICE = PAGE.replace(
    "{% monitoring_card 'user_count' range='24h' %}",
    "{% monitoring_card 'user_count' range='24h' %}{% monitoring_card 'user_count' range='7d' %}",
)

# A card of tests/test_escaping_browser.py's monitor, whose every text is hostile.
HOSTILE = PAGE.replace("'user_count'", "'hostile'")


def staff_page(request):
    return HttpResponse(engines["django"].from_string(PAGE).render(request=request))


def twice_page(request):
    return HttpResponse(engines["django"].from_string(TWICE).render(request=request))


def hostile_page(request):
    return HttpResponse(engines["django"].from_string(HOSTILE).render(request=request))


urlpatterns = [
    *test_app_urlpatterns,
    path("staff-page/", staff_page),
    path("staff-page-twice/", twice_page),
    path("staff-page-hostile/", hostile_page),
]
