from django.apps import AppConfig


class RequestsMonitoringConfig(AppConfig):
    """Built-in request monitors; they are fed by ``MonitoringMiddleware``."""

    name = "monitoring.contrib.requests"
    label = "monitoring_requests"
    verbose_name = "Monitoring: requests"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import got_request_exception

        from monitoring.contrib.requests import checks  # noqa: F401 - registers the check
        from monitoring.contrib.requests.signals import count_exception

        got_request_exception.connect(
            count_exception, dispatch_uid="monitoring.contrib.requests.count_exception"
        )
