"""Include with ``path("monitoring/", include("monitoring.urls"))``."""

from django.urls import path

from monitoring import metrics, views
from monitoring.views.health import health_view

app_name = "monitoring"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("health", health_view, name="health"),
    # Looked up by name per request, so monitors registered after this module
    # was imported still get a URL.
    path("<slug:name>/", views.monitor_detail, name="monitor"),
]
