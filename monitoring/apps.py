from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Register the system checks and import every app's ``monitoring.py``."""

    name = "monitoring"
    verbose_name = "Monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring import checks  # noqa: F401 - registers the checks
        from monitoring.register import autodiscover

        autodiscover()
