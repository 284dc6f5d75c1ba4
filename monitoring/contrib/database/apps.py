from django.apps import AppConfig


class DatabaseMonitoringConfig(AppConfig):
    """Built-in database monitors; they are fed by ``QueryMiddleware``."""

    name = "monitoring.contrib.database"
    label = "monitoring_database"
    verbose_name = "Monitoring: database"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.contrib.database import checks  # noqa: F401 - registers the check
