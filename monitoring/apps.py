from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Register the checks, import every app's ``monitoring.py``, flush at request end."""

    name = "monitoring"
    verbose_name = "Monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from monitoring import checks  # noqa: F401 - registers the checks
        from monitoring.register import autodiscover
        from monitoring.storage import buffer

        # The background thread starts lazily, on the first buffered add().
        request_finished.connect(
            buffer.flush_at_request_end, dispatch_uid="monitoring.flush_at_request_end"
        )
        autodiscover()
