from django.apps import AppConfig


class TasksMonitoringConfig(AppConfig):
    """Built-in Celery task monitors, fed by Celery's signals."""

    name = "monitoring.contrib.tasks"
    label = "monitoring_tasks"
    verbose_name = "Monitoring: tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.contrib.tasks import checks, signals

        if checks.celery_installed():
            signals.connect()
