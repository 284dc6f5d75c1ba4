from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth.views import LoginView
from django.urls import include, path

urlpatterns = [
    path("monitoring/", include("monitoring.urls")),
    *i18n_patterns(path("login/", LoginView.as_view())),
]
